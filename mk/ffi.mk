# The C ABI: libcb.a / libcb.so, include/libcb.h (cbindgen drift), C and C++ tests against both
# libraries, sanitizers, valgrind, install + pkg-config + CMake, firmware, conformance, bench.
# The fleet's C test (fleet.c, fleet.cpp) runs against a redis-server of its own
# (ffi/tests/c/with-redis.sh). See docs/c-api.md.

SETUP_TARGETS += setup-ffi
LINT_TARGETS += lint-header lint-ffi
TEST_TARGETS += test-ffi test-ffi-c test-ffi-sanitize test-ffi-valgrind test-ffi-install test-ffi-firmware test-ffi-miri
CONFORMANCE_TARGETS += conformance-c
BENCH_TARGETS += bench-c

FFI_TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
FFI_LIB := $(FFI_TARGET_DIR)/release
FFI_OUT := $(FFI_TARGET_DIR)/ffi-tests
FFI_INC := $(ROOT)/include
FFI_LIBS_PRIVATE := -lpthread -ldl -lm -lrt
FFI_CFLAGS := -std=c99 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -pedantic -O1 -g
FFI_CXXFLAGS := -std=c++17 -Wall -Wextra -Werror -pedantic -O1 -g
FFI_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FFI_C_TESTS := smoke stress shm
FFI_WITH_REDIS := ffi/tests/c/with-redis.sh
# redis-server for the fleet tests (idempotent: installs only what is missing).
FFI_NEED_REDIS := . .ci/lib.sh && apt_install redis-server
FFI_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' $(ROOT)/Cargo.toml | head -1)
PREFIX ?= /usr/local
# Cargo features of the libraries `ffi-libs` / `install` build: `fleet-tls` adds `rediss://`.
FFI_FEATURES ?=

.PHONY: test-ffi-miri
.PHONY: setup-ffi lint-header lint-ffi header ffi-libs test-ffi test-ffi-c test-ffi-sanitize \
        test-ffi-valgrind test-ffi-install install test-ffi-firmware conformance-c bench-c

# valgrind, cmake and pkg-config for the tests; redis-server for the fleet tests; the Arm GNU
# toolchain (+ newlib, ~770 MB, ~26 s) and QEMU for the firmware test; the Cortex-M4F rustup
# target.
setup-ffi:
	@. .ci/lib.sh && apt_install valgrind cmake pkg-config redis-server gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm \
	  && rust_targets thumbv7em-none-eabihf

# include/libcb.h is exactly what cbindgen 0.29.4 generates (a Rust test, in memory).
lint-header:
	cargo test -q -p cbreaker-ffi --test header

lint-ffi:
	cargo fmt -p cbreaker-ffi -- --check
	cargo clippy -q -p cbreaker-ffi --no-deps --all-targets -- -D warnings
	cargo clippy -q -p cbreaker-ffi --no-deps --lib --no-default-features --target thumbv7em-none-eabihf -- -D warnings

# The one way to (re)write include/libcb.h: explicit, never part of a build.
header:
	CBREAKER_WRITE_HEADER=1 cargo test -q -p cbreaker-ffi --test header header_is_current

ffi-libs:
	cargo build -q -p cbreaker-ffi --release $(if $(FFI_FEATURES),--features $(FFI_FEATURES))

test-ffi:
	cargo test -q -p cbreaker-ffi

# The crate's unit tests (status table, names, config, init/attach placement, the panic
# boundary) under miri; nightly miri comes from setup-core.
test-ffi-miri:
	MIRIFLAGS="-Zmiri-strict-provenance" cargo +$(NIGHTLY) miri test -q -p cbreaker-ffi --lib

# Every C test against libcb.a (by path) and libcb.so (-lcb + rpath); smoke also as C++17;
# the C++ wrapper test against both; the fleet's C and C++ tests against both, each with a
# redis-server of its own.
test-ffi-c: ffi-libs
	@mkdir -p $(FFI_OUT)
	@$(FFI_NEED_REDIS)
	@set -e; for t in $(FFI_C_TESTS); do \
	  gcc $(FFI_CFLAGS) -I$(FFI_INC) ffi/tests/c/$$t.c $(FFI_LIB)/libcb.a $(FFI_LIBS_PRIVATE) -o $(FFI_OUT)/$$t-static; \
	  gcc $(FFI_CFLAGS) -I$(FFI_INC) ffi/tests/c/$$t.c -L$(FFI_LIB) -lcb -Wl,-rpath,$(FFI_LIB) -o $(FFI_OUT)/$$t-shared; \
	  $(FFI_OUT)/$$t-static; $(FFI_OUT)/$$t-shared; done
	g++ $(FFI_CXXFLAGS) -I$(FFI_INC) -x c++ ffi/tests/c/smoke.c -x none $(FFI_LIB)/libcb.a $(FFI_LIBS_PRIVATE) -o $(FFI_OUT)/smoke-cxx
	$(FFI_OUT)/smoke-cxx
	g++ $(FFI_CXXFLAGS) -I$(FFI_INC) ffi/tests/cpp/raii.cpp $(FFI_LIB)/libcb.a $(FFI_LIBS_PRIVATE) -o $(FFI_OUT)/raii-static
	g++ $(FFI_CXXFLAGS) -I$(FFI_INC) ffi/tests/cpp/raii.cpp -L$(FFI_LIB) -lcb -Wl,-rpath,$(FFI_LIB) -o $(FFI_OUT)/raii-shared
	$(FFI_OUT)/raii-static
	$(FFI_OUT)/raii-shared
	gcc $(FFI_CFLAGS) -I$(FFI_INC) ffi/tests/c/fleet.c $(FFI_LIB)/libcb.a $(FFI_LIBS_PRIVATE) -o $(FFI_OUT)/fleet-static
	gcc $(FFI_CFLAGS) -I$(FFI_INC) ffi/tests/c/fleet.c -L$(FFI_LIB) -lcb -Wl,-rpath,$(FFI_LIB) -o $(FFI_OUT)/fleet-shared
	g++ $(FFI_CXXFLAGS) -I$(FFI_INC) ffi/tests/cpp/fleet.cpp -L$(FFI_LIB) -lcb -Wl,-rpath,$(FFI_LIB) -o $(FFI_OUT)/fleet-cxx
	$(FFI_WITH_REDIS) $(FFI_OUT)/fleet-static
	$(FFI_WITH_REDIS) $(FFI_OUT)/fleet-shared
	$(FFI_WITH_REDIS) $(FFI_OUT)/fleet-cxx

# The same tests under AddressSanitizer + UBSan (any report fails the run).
test-ffi-sanitize: ffi-libs
	@mkdir -p $(FFI_OUT)
	@set -e; for t in $(FFI_C_TESTS); do \
	  gcc $(FFI_CFLAGS) $(FFI_SAN) -I$(FFI_INC) ffi/tests/c/$$t.c $(FFI_LIB)/libcb.a $(FFI_LIBS_PRIVATE) -o $(FFI_OUT)/$$t-asan; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(FFI_OUT)/$$t-asan; done
	g++ $(FFI_CXXFLAGS) $(FFI_SAN) -I$(FFI_INC) ffi/tests/cpp/raii.cpp -L$(FFI_LIB) -lcb -Wl,-rpath,$(FFI_LIB) -o $(FFI_OUT)/raii-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 $(FFI_OUT)/raii-asan
	@$(FFI_NEED_REDIS)
	gcc $(FFI_CFLAGS) $(FFI_SAN) -I$(FFI_INC) ffi/tests/c/fleet.c $(FFI_LIB)/libcb.a $(FFI_LIBS_PRIVATE) -o $(FFI_OUT)/fleet-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $(FFI_WITH_REDIS) $(FFI_OUT)/fleet-asan
	g++ $(FFI_CXXFLAGS) $(FFI_SAN) -I$(FFI_INC) ffi/tests/cpp/fleet.cpp -L$(FFI_LIB) -lcb -Wl,-rpath,$(FFI_LIB) -o $(FFI_OUT)/fleet-cxx-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1 $(FFI_WITH_REDIS) $(FFI_OUT)/fleet-cxx-asan

# valgrind memcheck over the plain builds (fewer iterations: valgrind runs threads one at a
# time); any error or definite/possible leak fails the run. Children are traced too.
FFI_VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,possible \
                --trace-children=yes
test-ffi-valgrind: test-ffi-c
	$(FFI_VALGRIND) $(FFI_OUT)/smoke-static
	$(FFI_VALGRIND) $(FFI_OUT)/smoke-shared
	$(FFI_VALGRIND) $(FFI_OUT)/stress-static 20000
	$(FFI_VALGRIND) $(FFI_OUT)/shm-shared 5000
	$(FFI_VALGRIND) $(FFI_OUT)/raii-shared
	$(FFI_WITH_REDIS) $(FFI_VALGRIND) $(FFI_OUT)/fleet-shared

# Installs libcb.a, libcb.so, libcb.h, libcb.hpp, libcb.pc and the CMake package config.
install: ffi-libs
	install -d $(PREFIX)/lib/pkgconfig $(PREFIX)/include $(PREFIX)/lib/cmake/libcb
	install -m 644 $(FFI_LIB)/libcb.a $(PREFIX)/lib/libcb.a
	install -m 755 $(FFI_LIB)/libcb.so $(PREFIX)/lib/libcb.so
	install -m 644 include/libcb.h include/libcb.hpp $(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(FFI_VERSION)|g' -e 's|@LIBS_PRIVATE@|$(FFI_LIBS_PRIVATE)|g' \
	  ffi/libcb.pc.in > $(PREFIX)/lib/pkgconfig/libcb.pc
	install -m 644 cmake/libcbConfig.cmake $(PREFIX)/lib/cmake/libcb/
	sed -e 's|@VERSION@|$(FFI_VERSION)|g' cmake/libcbConfigVersion.cmake.in > $(PREFIX)/lib/cmake/libcb/libcbConfigVersion.cmake

# Installs into a temporary prefix, then builds and runs a program with
# `pkg-config --cflags --libs libcb` (shared) and `--static`, and one with CMake find_package.
test-ffi-install:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(MAKE) -s --no-print-directory install PREFIX=$$tmp/prefix; \
	export PKG_CONFIG_PATH=$$tmp/prefix/lib/pkgconfig; \
	echo "[install] pkg-config: $$(pkg-config --cflags --libs libcb)"; \
	gcc -std=c99 -Wall -Wextra -Werror -pedantic ffi/tests/install/hello.c $$(pkg-config --cflags --libs libcb) \
	  -Wl,-rpath,$$tmp/prefix/lib -o $$tmp/hello-shared; \
	gcc -std=c99 -Wall -Wextra -Werror -pedantic -static-libgcc ffi/tests/install/hello.c \
	  $$(pkg-config --cflags libcb) $$tmp/prefix/lib/libcb.a $$(pkg-config --libs-only-l --static libcb | sed 's/-lcb//') -o $$tmp/hello-static; \
	$$tmp/hello-shared; $$tmp/hello-static; \
	cmake -S ffi/tests/install -B $$tmp/cmake-build -DCMAKE_PREFIX_PATH=$$tmp/prefix >/dev/null; \
	cmake --build $$tmp/cmake-build >/dev/null; \
	$$tmp/cmake-build/hello_cmake; $$tmp/cmake-build/hello_cmake_static

# Every vector (tests/vectors and CBREAKER_VECTORS) through the exported C functions, and
# every fleet vector (tests/vectors/fleet) with C ABI breakers as members.
conformance-c:
	cargo test -q -p cbreaker-ffi --test vectors --test fleet_vectors -- --nocapture

# Firmware: the no_std staticlib for Cortex-M4F, linked by arm-none-eabi-gcc into a C program
# with no libc and no heap (breaker in a static buffer), run under QEMU (MPS2-AN386) with
# semihosting. The exit code is the number of failed checks; a build with one forced failure
# must exit non-zero (a control that the exit code really propagates). Prints the .text size.
FW_C_TARGET := thumbv7em-none-eabihf
FW_C_FLAGS := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -std=c11 -Os -g -Wall -Wextra -Werror \
              -ffreestanding -ffunction-sections -fdata-sections -nostdlib -nostartfiles \
              -T ffi/tests/firmware/link.ld -Wl,--gc-sections -Wl,-z,noexecstack
FW_C_QEMU := timeout 60 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
             -semihosting-config enable=on,target=native -kernel
test-ffi-firmware:
	@mkdir -p $(FFI_OUT)
	cargo build -q -p cbreaker-ffi --release --no-default-features --target $(FW_C_TARGET)
	arm-none-eabi-gcc $(FW_C_FLAGS) -I$(FFI_INC) ffi/tests/firmware/startup.c ffi/tests/firmware/main.c \
	  $(FFI_TARGET_DIR)/$(FW_C_TARGET)/release/libcb.a -lgcc -o $(FFI_OUT)/firmware.elf
	arm-none-eabi-gcc $(FW_C_FLAGS) -DCB_FW_CONTROL_FAIL -I$(FFI_INC) ffi/tests/firmware/startup.c ffi/tests/firmware/main.c \
	  $(FFI_TARGET_DIR)/$(FW_C_TARGET)/release/libcb.a -lgcc -o $(FFI_OUT)/firmware-control.elf
	@arm-none-eabi-size $(FFI_OUT)/firmware.elf
	$(FW_C_QEMU) $(FFI_OUT)/firmware.elf
	@echo "[firmware] control: one forced failure must give exit code 1"
	@rc=0; $(FW_C_QEMU) $(FFI_OUT)/firmware-control.elf >/dev/null 2>&1 || rc=$$?; \
	  if [ $$rc -ne 1 ]; then echo "control exited $$rc, expected 1"; exit 1; fi

# The C ABI beside the Rust core, same run: criterion, then interleaved tables of the C / Rust
# ratio, the last one with the C side a loop compiled by gcc calling libcb.so (target ≤ 1.2×).
bench-c: ffi-libs
	@mkdir -p $(FFI_OUT)
	gcc -O2 -std=c99 -Wall -Wextra -Werror -pedantic -shared -fPIC -I$(FFI_INC) ffi/benches/c/loops.c \
	  -L$(FFI_LIB) -lcb -Wl,-rpath,$(FFI_LIB) -o $(FFI_OUT)/libcbloops.so
	CBREAKER_C_LOOPS=$(FFI_OUT)/libcbloops.so \
	  cargo bench -q -p cbreaker-ffi --bench c_vs_rust -- --noplot --warm-up-time 1 --measurement-time 3
