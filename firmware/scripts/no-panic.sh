#!/usr/bin/env bash
# no-panic.sh ELF: the core's operations link no panic path. `footprint` (new, try_acquire,
# record around a call) is built with LTO; a panic path anywhere in what it runs (a bounds
# check, a division by a value that may be zero, an unwrap) would keep the panic handler and
# `core::panicking` in the image. Any such symbol fails the check.
set -euo pipefail
elf=$1
nm=${LLVM_NM:-llvm-nm}
if found=$("$nm" -C "$elf" | grep -E 'core::panicking|rust_begin_unwind|panic_bounds_check|panic_const'); then
  echo "[no-panic] FAIL: $elf links a panic path:" >&2
  echo "$found" >&2
  exit 1
fi
echo "[no-panic] $elf: no panic path linked"
