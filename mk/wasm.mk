# The WASM front door: the npm package `cbreaker` (bindings-wasm/). See docs/wasm.md.
#
#   make setup-wasm      rustup target, wasm-bindgen CLI (pinned to Cargo.lock), npm ci
#   make build-wasm      bindings-wasm/dist/: cargo -> wasm-bindgen (nodejs, web) -> wasm-opt -Oz
#   make test-wasm       cargo test; node --test: API, robustness (bad input, throwing user code,
#                        timeouts), npm pack + scratch install (ESM, CJS, web, attw, tsc under
#                        node16/nodenext/bundler), workerd serving examples/workerd
#   make conformance-js  every conformance vector through the JS API, and every fleet vector
#                        (tests/vectors/fleet/) on the test build dist-sim/ (cargo feature
#                        fleet-sim: the core's simulated fleet store; not in the npm package)
#   make bench-js        call() overhead vs opossum / cockatiel, heap per breaker, .wasm size

WASM_DIR := bindings-wasm
# The CLI must match the crate's wasm-bindgen exactly (bindings-wasm/Cargo.toml pins it with `=`).
WASM_BINDGEN_VERSION = $(shell awk '/^name = "wasm-bindgen"$$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)

SETUP_TARGETS += setup-wasm
LINT_TARGETS += lint-wasm
TEST_TARGETS += test-wasm
CONFORMANCE_TARGETS += conformance-js
BENCH_TARGETS += bench-js

.PHONY: setup-wasm build-wasm build-wasm-sim lint-wasm test-wasm conformance-js bench-js
setup-wasm:
	@. .ci/lib.sh && rust_targets wasm32-unknown-unknown \
	  && cargo_tool wasm-bindgen-cli "$(WASM_BINDGEN_VERSION)" wasm-bindgen
	@# `npm ci`: installs exactly the lockfile (every platform's workerd package is listed, so a
	@# fresh machine of any platform installs from it) and never rewrites it. Skipped when
	@# node_modules already matches the lockfile.
	cd $(WASM_DIR) && { [ node_modules/.package-lock.json -nt package-lock.json ] \
	  || npm ci --no-audit --no-fund --loglevel=error; }

build-wasm:
	cd $(WASM_DIR) && node scripts/build.mjs

# The package plus FleetSim (src/fleet_sim.rs), in dist-sim/, for the fleet vectors only.
build-wasm-sim:
	cd $(WASM_DIR) && CBREAKER_WASM_FEATURES=fleet-sim CBREAKER_WASM_DIST=dist-sim node scripts/build.mjs

lint-wasm:
	cargo fmt -p cbreaker-wasm -- --check
	cargo clippy -p cbreaker-wasm --all-targets -- -D warnings
	cargo clippy -p cbreaker-wasm --all-targets --features fleet-sim -- -D warnings

test-wasm: build-wasm
	cargo test -p cbreaker-wasm
	cargo test -p cbreaker-wasm --features fleet-sim --lib fleet_sim
	cd $(WASM_DIR) && node --test test/

conformance-js: build-wasm build-wasm-sim
	cd $(WASM_DIR) && node --test conformance/

bench-js: build-wasm
	cd $(WASM_DIR) && node --expose-gc bench/bench.mjs
