# Rust services: the core's `std`, `registry`, `heapless`, `prometheus`, `prometheus-collector`,
# `tower`, `opentelemetry`, `tracing` and `fleet` features, and the `integration/` crate (the axum example, the real-server test on
# 127.0.0.1, the zero-allocation check). See docs/rust.md.

SETUP_TARGETS += setup-rust-services
LINT_TARGETS += lint-rust-services
TEST_TARGETS += test-rust-services
BENCH_TARGETS += bench-rust-services

RUST_SERVICE_FEATURES := alloc std registry heapless prometheus prometheus-collector tower opentelemetry tracing fleet
RUST_SERVICE_ALL := std,registry,heapless,prometheus,prometheus-collector,tower,opentelemetry,tracing,fleet,fleet-tls,alloc

.PHONY: setup-rust-services lint-rust-services test-rust-services bench-rust-services

# redis-server: the fleet tests start their own on 127.0.0.1 (docs/fleet.md); openssl: the
# TLS test's certificates (`fleet-tls` itself is rustls: nothing to install).
setup-rust-services:
	@. .ci/lib.sh && rust_targets thumbv7m-none-eabi && apt_install redis-server openssl

lint-rust-services:
	cargo clippy -q -p cbreaker --all-features --all-targets -- -D warnings
	cargo clippy -q -p cbreaker-integration --all-targets -- -D warnings
	RUSTDOCFLAGS=-Dwarnings cargo doc -q -p cbreaker --features $(RUST_SERVICE_ALL) --no-deps

# Each feature builds alone; the default build stays no_std (thumbv7m, no allocator), and so
# does the firmware registry. Then the feature tests, their doc tests, the example's
# self-check, the real-server test and the zero-allocation check.
test-rust-services:
	for f in $(RUST_SERVICE_FEATURES); do cargo build -q -p cbreaker --no-default-features --features $$f; done
	cargo build -q -p cbreaker --target thumbv7m-none-eabi
	cargo build -q -p cbreaker --target thumbv7m-none-eabi --features heapless
	cargo test -p cbreaker --features $(RUST_SERVICE_ALL) --lib --test std_call --test registry --test prometheus_text \
		--test otel_metrics --test resilience4j_names --test tracing_events --test docs_tables --test fleet_redis
	cargo test -p cbreaker --features $(RUST_SERVICE_ALL) --doc
	cargo test -p cbreaker-integration
	cargo run -q -p cbreaker-integration --example axum -- --smoke

# `call` with the std clock vs recloser and failsafe, the registry lookup, the Tower layer vs
# tower-resilience-circuitbreaker 0.14, in one run (about a minute), then the ratio table.
# (`make test` compiles this bench through test-benches; zero allocations: the services test.)
bench-rust-services:
	cargo bench -p cbreaker-benches --bench services -- --noplot
	cargo run --release -q -p cbreaker-benches --bin services_report -- target/criterion
