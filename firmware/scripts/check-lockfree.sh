#!/usr/bin/env bash
# check-lockfree.sh MODE TARGET ELF: reads the disassembly of a whole firmware image.
#   MODE=lockfree          no interrupt-disabling instruction anywhere in the image (so none
#                          in the breaker code either), and the breaker's atomics are
#                          load-linked/store-conditional pairs (ldrex/strex, lr.w/sc.w);
#   MODE=critical-section  the opposite, as a control: the same program on a target without
#                          CAS must show interrupt-disabling instructions, which proves the
#                          pattern matches what a critical section compiles to.
# Interrupt-disabling means `cpsid` on ARM and clearing a bit of `mstatus` (csrrci, csrci,
# csrrc, csrc) on RISC-V.
set -euo pipefail
mode=$1 target=$2 elf=$3
objdump=${LLVM_OBJDUMP:-llvm-objdump}

case $target in
  thumb*)
    dis=$("$objdump" -d --no-show-raw-insn "$elf")
    irq_re=':[[:space:]]+cpsid[[:space:]]'
    ll_re=':[[:space:]]+ldrex[bhd]?[[:space:]]' sc_re=':[[:space:]]+strex[bhd]?[[:space:]]'
    ll=ldrex sc=strex irq=cpsid ;;
  riscv*)
    # `+a`: llvm-objdump 14 only decodes lr/sc/amo when told the A extension is there.
    dis=$("$objdump" -d --no-show-raw-insn --mattr=+a "$elf")
    irq_re=':[[:space:]]+csrr?ci?[[:space:]].*mstatus'
    ll_re=':[[:space:]]+lr\.w' sc_re=':[[:space:]]+sc\.w'
    ll=lr.w sc=sc.w irq='mstatus clear' ;;
  *) echo "check-lockfree: no rule for $target" >&2; exit 2 ;;
esac

count() { grep -cE "$1" <<<"$dis" || true; }
n_irq=$(count "$irq_re") n_ll=$(count "$ll_re") n_sc=$(count "$sc_re")
name="$target $(basename "$elf")"

case $mode in
  lockfree)
    if ((n_irq == 0 && n_ll > 0 && n_sc > 0)); then
      echo "[lockfree] $name: 0 $irq, $n_ll $ll / $n_sc $sc: lock-free"
    else
      echo "[lockfree] FAIL $name: $n_irq $irq (want 0), $n_ll $ll / $n_sc $sc (want > 0)" >&2
      grep -E "$irq_re" <<<"$dis" | head -5 >&2 || true
      exit 1
    fi ;;
  critical-section)
    if ((n_irq > 0 && n_ll == 0)); then
      echo "[lockfree] $name: $n_irq $irq, no $ll/$sc: critical sections, as expected without CAS"
    else
      echo "[lockfree] FAIL $name: control expected $irq (found $n_irq) and no $ll (found $n_ll)" >&2
      exit 1
    fi ;;
  *) echo "check-lockfree: MODE is lockfree or critical-section" >&2; exit 2 ;;
esac
