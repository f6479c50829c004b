# The core crate: unit tests, proptest, loom models, miri, lints.

SETUP_TARGETS += setup-core
LINT_TARGETS += lint-rust
TEST_TARGETS += test-core test-loom test-miri

.PHONY: setup-core lint-rust test-core test-loom test-miri
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

# Loom: every model in core/src/tests/loom_*.rs. Separate target dir: RUSTFLAGS changes rebuild all.
test-loom:
	RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom \
	  cargo test -p cbreaker --lib --release loom_

test-miri:
	MIRIFLAGS="-Zmiri-strict-provenance" cargo +$(NIGHTLY) miri test -p cbreaker --lib

DEMO_TARGETS += demo-rust
.PHONY: demo-rust
demo-rust:
	cargo run -q --release -p cbreaker --example demo
