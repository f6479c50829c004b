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
# Checks that only compute (no wall-clock assertion, no server): `make test` runs them first,
# beside MODEL_TARGETS (the model checkers: CPU-bound, each ending in one long single-threaded
# run), and waits for both before the tests that measure time.
COMPUTE_TARGETS :=
MODEL_TARGETS :=
CONFORMANCE_TARGETS :=
BENCH_TARGETS :=
DEMO_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: setup lint test test-compute conformance bench demo
setup: $(SETUP_TARGETS)
lint: $(LINT_TARGETS)
test: setup
	@$(MAKE) --no-print-directory test-compute
	@$(MAKE) --no-print-directory $(filter-out $(COMPUTE_TARGETS),$(TEST_TARGETS)) conformance
	@echo "make test: all green"

# The lints and COMPUTE_TARGETS in order, with MODEL_TARGETS beside them; the models' output is
# printed whole when both are done (a failure in either fails this, the models stopped at once).
test-compute: setup
	@log=$$(mktemp); \
	$(MAKE) --no-print-directory $(MODEL_TARGETS) > "$$log" 2>&1 & models=$$!; \
	trap 'kill $$models 2>/dev/null || true; rm -f "$$log"' EXIT; \
	rc=0; $(MAKE) --no-print-directory lint $(COMPUTE_TARGETS) || rc=$$?; \
	if [ $$rc -ne 0 ]; then kill $$models 2>/dev/null || true; fi; \
	m=0; wait $$models || m=$$?; \
	echo "[test] $(MODEL_TARGETS), run beside the lints and $(COMPUTE_TARGETS):"; cat "$$log"; \
	[ $$rc -eq 0 ] && [ $$m -eq 0 ]
conformance: $(CONFORMANCE_TARGETS)
bench: setup $(BENCH_TARGETS)
demo: setup $(DEMO_TARGETS)
