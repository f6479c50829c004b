# Conformance (tests/ = crate cbreaker-conformance, fuzz/): the vectors against the Rust core and
# the reference model, invariant 7 (core vs reference model, proptest), and the cargo-fuzz
# target `ops`. See tests/vectors/README.md.

SETUP_TARGETS += setup-fuzz
TEST_TARGETS += test-model test-fuzz
COMPUTE_TARGETS += test-model test-fuzz
CONFORMANCE_TARGETS += conformance-rust

FUZZ_SECONDS ?= 20

.PHONY: setup-fuzz conformance-rust test-model test-fuzz

# cargo-fuzz (pinned) and the nightly toolchain it builds with.
setup-fuzz:
	@. .ci/lib.sh && nightly_components rust-src && cargo_tool cargo-fuzz 0.13.2 cargo-fuzz

# Every tests/vectors/*.json (and each CBREAKER_VECTORS directory) on the core and the model;
# every tests/vectors/fleet/*.json on the core's fleet members and the simulated store.
conformance-rust:
	cargo test -p cbreaker-conformance --test vectors --test fleet_vectors

# Invariant 7: PROPTEST_CASES=100000 make test-model for a longer run.
test-model:
	cargo test -p cbreaker-conformance --test model
	@# Any bit pattern is a state: 20,000 rounds of random bytes written into live breakers.
	cargo test -p cbreaker-conformance --release --test corruption -- --nocapture
	cargo test -q -p cbreaker-conformance --doc

# Core vs reference model under libFuzzer, about $(FUZZ_SECONDS) s (fuzz/ is its own workspace):
# both targets built, then run side by side (one core each), each one's output printed whole.
test-fuzz:
	cargo +$(NIGHTLY) fuzz build --fuzz-dir fuzz ops
	cargo +$(NIGHTLY) fuzz build --fuzz-dir fuzz corrupt
	mkdir -p fuzz/corpus/ops fuzz/corpus/corrupt
	@$(MAKE) --no-print-directory -j2 --output-sync=target fuzz-ops fuzz-corrupt

.PHONY: fuzz-ops fuzz-corrupt
fuzz-ops:
	cargo +$(NIGHTLY) fuzz run --fuzz-dir fuzz ops -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048
fuzz-corrupt:
	cargo +$(NIGHTLY) fuzz run --fuzz-dir fuzz corrupt -- -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=2048
