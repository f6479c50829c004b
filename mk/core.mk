# The core crate: unit tests, proptest, loom models, miri, lints.

SETUP_TARGETS += setup-core
LINT_TARGETS += lint-rust
TEST_TARGETS += test-core
COMPUTE_TARGETS += test-core
MODEL_TARGETS += test-models

.PHONY: setup-core lint-rust test-core test-models test-loom test-loom32 test-miri
setup-core:
	@. .ci/lib.sh && rustup component add rustfmt clippy >/dev/null 2>&1 && nightly_components miri rust-src \
	  && cargo +$(NIGHTLY) miri setup >/dev/null 2>&1

lint-rust:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom \
	  cargo clippy -p cbreaker --lib --tests --release -- -D warnings

# Unit tests, doc tests, the limits test; the stress test in debug (its assertions catch a
# count window underflow as it happens) and in release (millions of operations).
test-core:
	cargo test -p cbreaker --lib --test limits --test stress --test docs_tables
	cargo test -p cbreaker --doc
	cargo test -p cbreaker --release --test stress
	cargo run -q --release -p cbreaker --example demo >/dev/null

# The model checkers side by side: each run ends in one long single-threaded model (the count
# window's, under loom) or interpreter (miri), so two cores finish the three in about the time of
# the longest. Each one's output is printed whole when it ends.
test-models:
	@$(MAKE) --no-print-directory -j3 --output-sync=target test-loom test-loom32 test-miri

# Loom: every model in core/src/machine/tests/loom_*.rs. Separate target dir: RUSTFLAGS changes rebuild all.
test-loom:
	RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom \
	  cargo test -p cbreaker --lib --release loom_

# Loom again with the 32-bit count-window head of ARMv7-M and RV32 (the count window's own models).
test-loom32:
	RUSTFLAGS="--cfg loom --cfg cbreaker_head32" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom32 \
	  cargo test -p cbreaker --lib --release -- $(LOOM_HEAD32_MODELS)

# The models of the count window's own protocol (claim, cells, counts, laps), where the head's
# width matters; the state-word models do not depend on it.
LOOM_HEAD32_MODELS := loom_counters_match_permits loom_count_window_bounds_and_exact_removal \
  loom_size_one_window_keeps_exactly_the_last_outcome loom_lapped_writer_cell_is_taken_out_once \
  loom_late_writer_never_overwrites_a_newer_cell loom_failure_takes_over_the_count_it_pushes_out

test-miri:
	MIRIFLAGS="-Zmiri-strict-provenance" cargo +$(NIGHTLY) miri test -p cbreaker --lib

DEMO_TARGETS += demo-rust
.PHONY: demo-rust
demo-rust:
	cargo run -q --release -p cbreaker --example demo
