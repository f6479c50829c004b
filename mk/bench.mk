# Benchmarks: cbreaker vs one `fetch_add` vs recloser vs failsafe, side by side in one run
# (benches/benches/breaker.rs), then the ratio tables (benches/src/bin/bench_report.rs).
# See docs/benchmarks.md. About 2-3 minutes on 2 cores.

BENCH_TARGETS += bench-rust
TEST_TARGETS += test-benches
COMPUTE_TARGETS += test-benches

.PHONY: bench-rust test-benches bench-zero-alloc

# Release: the allocation check and the footprint table measure what ships.
bench-zero-alloc:
	cargo test --release -p cbreaker-benches

bench-rust:
	cargo bench -p cbreaker-benches --bench breaker -- --noplot
	$(MAKE) --no-print-directory bench-zero-alloc
	cargo run --release -q -p cbreaker-benches --bin bench-report -- target/criterion target/tmp/footprint.tsv

# The benches must keep compiling, and the core must keep allocating nothing.
test-benches:
	cargo bench -p cbreaker-benches --no-run
	$(MAKE) --no-print-directory bench-zero-alloc
