# cbreaker: the one place every check is spelled. CI runs `.ci/run`, which runs `make test`.
#
#   make demo         set up what a fresh machine needs, then run the demo
#   make test         set up, then run every test of every language
#   make conformance  run every conformance vector through every front door
#   make bench        run the benchmarks side by side and print the tables
#
# Each area adds its own targets in mk/<area>.mk (SETUP_TARGETS, TEST_TARGETS, ...).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

export CBREAKER_CACHE ?= $(HOME)/.cache/cbreaker
export CARGO_TERM_COLOR ?= never
export CARGO_INSTALL_ROOT := $(CBREAKER_CACHE)/cargo-tools
export PATH := $(CBREAKER_CACHE)/cargo-tools/bin:$(CBREAKER_CACHE)/venv/bin:$(HOME)/.cargo/bin:$(PATH)
NIGHTLY ?= nightly
ROOT := $(CURDIR)

SETUP_TARGETS :=
LINT_TARGETS :=
TEST_TARGETS :=
CONFORMANCE_TARGETS :=
BENCH_TARGETS :=
DEMO_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: setup lint test conformance bench demo
setup: $(SETUP_TARGETS)
lint: $(LINT_TARGETS)
test: setup lint $(TEST_TARGETS) conformance
	@echo "make test: all green"
conformance: $(CONFORMANCE_TARGETS)
bench: setup $(BENCH_TARGETS)
demo: setup $(DEMO_TARGETS)
