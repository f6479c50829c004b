# Firmware: the core on every no_std target, the lock-free proof from the disassembly, the
# Cortex-M3 demo under QEMU, and the image sizes. See docs/firmware.md.

SETUP_TARGETS += setup-firmware
LINT_TARGETS += lint-firmware
TEST_TARGETS += test-targets test-firmware

# Targets with native 32-bit CAS: the core builds as is and takes no lock.
FW_LOCKFREE_TARGETS := thumbv7m-none-eabi thumbv7em-none-eabihf riscv32imac-unknown-none-elf \
                       wasm32-unknown-unknown x86_64-unknown-none
# Targets without CAS: only with the explicit `critical-section` feature.
FW_CS_TARGETS := thumbv6m-none-eabi riscv32imc-unknown-none-elf
FW_QEMU := qemu-system-arm -cpu cortex-m3 -machine lm3s6965evb -nographic \
           -semihosting-config enable=on,target=native -kernel
FW_QEMU_TIMEOUT ?= 60
FW_BIN := firmware/target/thumbv7m-none-eabi/release/cbreaker-firmware

.PHONY: setup-firmware lint-firmware test-targets test-firmware firmware-build firmware-size

# rustup targets, QEMU (no recommends: ~16 MB instead of ~157 MB), and LLVM's binutils
# (llvm-objdump, llvm-size) only when the machine has none (the image ships llvm-14).
setup-firmware:
	@. .ci/lib.sh && rust_targets $(FW_LOCKFREE_TARGETS) $(FW_CS_TARGETS) \
	  && apt_install qemu-system-arm \
	  && if ! command -v llvm-objdump >/dev/null || ! command -v llvm-size >/dev/null; then apt_install llvm; fi

lint-firmware:
	cd firmware && cargo fmt -- --check
	cd firmware && cargo clippy -q --release --all-targets -- -D warnings
	cd firmware && for t in thumbv6m-none-eabi riscv32imc-unknown-none-elf; do \
	  cargo clippy -q --release --all-targets --target $$t --features critical-section -- -D warnings; done
	cd firmware && cargo clippy -q --release --all-targets --target riscv32imac-unknown-none-elf -- -D warnings

# The demo for every firmware target it supports (thumbv7m is the QEMU one).
firmware-build:
	cd firmware && for t in thumbv7m-none-eabi thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do \
	  cargo build -q --release --target $$t; done
	cd firmware && for t in $(FW_CS_TARGETS); do \
	  cargo build -q --release --target $$t --features critical-section; done

# The core alone for every target, then the disassembly of the demo: no interrupt-disabling
# instruction and ldrex/strex (lr/sc) present where the target has CAS; critical sections,
# as a control of the pattern, where it has not.
test-targets: firmware-build
	@for t in $(FW_LOCKFREE_TARGETS); do echo "[targets] $$t"; \
	  cargo build -q -p cbreaker --release --target $$t; done
	@for t in $(FW_CS_TARGETS); do echo "[targets] $$t --features critical-section"; \
	  cargo build -q -p cbreaker --release --target $$t --features critical-section; done
	@echo "[targets] thumbv6m-none-eabi without the feature must not build (no silent lock)"
	@if out=$$(cargo build -q -p cbreaker --release --target thumbv6m-none-eabi 2>&1); then \
	  echo "[targets] FAIL: the core built without CAS and without the critical-section opt-in" >&2; exit 1; \
	elif ! grep -q "require atomic CAS" <<<"$$out"; then \
	  echo "[targets] FAIL: it failed, but not for want of CAS:" >&2; echo "$$out" | tail -5 >&2; exit 1; fi
	@for t in thumbv7m-none-eabi thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do \
	  firmware/scripts/check-lockfree.sh lockfree $$t firmware/target/$$t/release/cbreaker-firmware; done
	@for t in $(FW_CS_TARGETS); do \
	  firmware/scripts/check-lockfree.sh critical-section $$t firmware/target/$$t/release/cbreaker-firmware; done

# The demo on QEMU: its exit code is the verdict. Then the same demo built to fail one check
# must exit non-zero, so a passing run means something.
test-firmware: firmware-build
	@start=$$(date +%s%N); rc=0; timeout $(FW_QEMU_TIMEOUT) $(FW_QEMU) $(FW_BIN) || rc=$$?; \
	  echo "[firmware] qemu exit $$rc in $$(( ($$(date +%s%N) - start) / 1000000 )) ms"; \
	  [ $$rc = 0 ] || { echo "[firmware] FAIL: the demo exited $$rc" >&2; exit 1; }
	@cd firmware && cargo build -q --release --features inject-failure --target-dir target/inject
	@rc=0; timeout $(FW_QEMU_TIMEOUT) $(FW_QEMU) firmware/target/inject/thumbv7m-none-eabi/release/cbreaker-firmware \
	  >/dev/null 2>&1 || rc=$$?; \
	  if [ $$rc = 1 ]; then echo "[firmware] a failed check exits 1 through QEMU: ok"; \
	  else echo "[firmware] FAIL: the inject-failure demo exited $$rc, expected 1" >&2; exit 1; fi
	@firmware/scripts/size.sh thumbv7em-none-eabihf
	@firmware/scripts/size.sh thumbv6m-none-eabi critical-section
	@firmware/scripts/no-panic.sh firmware/target/thumbv7em-none-eabihf/release/footprint
	@firmware/scripts/no-panic.sh firmware/target/thumbv6m-none-eabi/release/footprint

# Every combination of what the core links (docs/firmware.md, "Choosing what links").
firmware-size:
	@firmware/scripts/size.sh thumbv7em-none-eabihf
	@for f in count-window,time-window count-window,fast-paths count-window time-window,fast-paths time-window ""; do \
	  firmware/scripts/size.sh thumbv7em-none-eabihf "$$f" only; done
	@firmware/scripts/size.sh thumbv6m-none-eabi critical-section
	@firmware/scripts/size.sh thumbv6m-none-eabi critical-section,count-window only
