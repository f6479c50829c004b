# Python: the `cbreaker` package (bindings-python/: pyo3 + maturin, pytest, ruff, mypy).
#
#   make setup-python        venv at $(CBREAKER_CACHE)/venv, pinned dev tools, `maturin develop`
#   make test-python         unit, asyncio, threads, HTTP integration, fresh-venv install
#   make conformance-python  every vector (tests/vectors + $CBREAKER_VECTORS) via the Python API
#   make lint-python         ruff, mypy --strict, mypy.stubtest
#   make bench-python        call_sync / await call overhead vs pybreaker, circuitbreaker, ...
#                            and the fleet (benches/bench_fleet.py: a member vs a local breaker,
#                            vs PyBreaker + CircuitRedisStorage on one local redis-server)

SETUP_TARGETS += setup-python
LINT_TARGETS += lint-python
TEST_TARGETS += test-python
CONFORMANCE_TARGETS += conformance-python
BENCH_TARGETS += bench-python

PY_DIR := bindings-python
PY_VENV := $(CBREAKER_CACHE)/venv
PY := $(PY_VENV)/bin/python
# pytest exits 5 when it collects nothing: that is a broken suite here, never a pass.
PYTEST = cd $(PY_DIR) && { rc=0; $(2) $(PY) -m pytest $(1) || rc=$$?; \
	if [ $$rc = 5 ]; then echo "pytest collected no tests in '$(1)': failing on purpose" >&2; exit 1; fi; \
	exit $$rc; }

.PHONY: setup-python test-python conformance-python lint-python bench-python
# tests/test_fleet*.py start redis-server too, and the Rust fleet_member (cargo build, in the test).
setup-python:
	@. .ci/lib.sh && apt_install redis-server openssl   # tests start redis-server on 127.0.0.1; openssl: the TLS test's certificate
	@[ -x $(PY) ] || { echo "[setup] python venv $(PY_VENV)" >&2; python3 -m venv $(PY_VENV); }
	@want=$$(sha256sum $(PY_DIR)/requirements-dev.txt | cut -d' ' -f1); \
	  if [ "$$(cat $(PY_VENV)/.cbreaker-requirements 2>/dev/null)" != "$$want" ]; then \
	    echo "[setup] pip install -r $(PY_DIR)/requirements-dev.txt" >&2; \
	    $(PY) -m pip install -q --disable-pip-version-check -r $(PY_DIR)/requirements-dev.txt \
	      && echo "$$want" > $(PY_VENV)/.cbreaker-requirements; \
	  fi
	cd $(PY_DIR) && VIRTUAL_ENV=$(PY_VENV) $(PY_VENV)/bin/maturin develop --release -q

test-python: setup-python
	$(call PYTEST,-q -p no:cacheprovider --ignore=tests/test_conformance.py --ignore=tests/test_fleet_vectors.py tests)
	@echo "[python] native + asyncio tests again under PYTHONMALLOC=debug"
	$(call PYTEST,-q -p no:cacheprovider tests/test_native.py tests/test_asyncio.py,PYTHONMALLOC=debug)

conformance-python: setup-python
	$(call PYTEST,-q -p no:cacheprovider tests/test_conformance.py tests/test_fleet_vectors.py)

lint-python: setup-python
	cd $(PY_DIR) && $(PY_VENV)/bin/ruff check python tests benches
	cd $(PY_DIR) && $(PY_VENV)/bin/ruff format --check python tests benches
	cd $(PY_DIR) && $(PY_VENV)/bin/mypy --strict python/cbreaker
	cd $(PY_DIR) && $(PY) -m mypy.stubtest cbreaker._native --allowlist stubtest-allowlist.txt


bench-python: setup-python
	cd $(PY_DIR) && $(PY) benches/bench.py
	cd $(PY_DIR) && $(PY) benches/bench_fleet.py
