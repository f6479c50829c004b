#!/usr/bin/env bash
# size.sh TARGET FEATURES [only]: .text/.data/.bss of the demo, and the breaker's share.
# With `only`, FEATURES replace the default ones (count-window, time-window, fast-paths): a
# firmware-sized build that links only what it names.
#
# The share is a delta between two builds of `footprint` (src/bin/footprint.rs), a guarded
# call in a loop: with the breaker (new + try_acquire + record) and with `--features baseline`
# (the same loop calling the dependency directly). With LTO most of the core is inlined into
# `main`, so summing `llvm-nm --size-sort` over `cbreaker::` symbols would miss most of it;
# the delta counts everything the breaker brings, compiler-builtins helpers included.
# Berkeley `text` = every loaded read-only section (.vector_table + .text + .rodata).
set -euo pipefail
cd "$(dirname "$0")/.."
target=$1 features=${2:-} only=${3:-}
size=${LLVM_SIZE:-llvm-size}
fflag=${features:+--features $features}
nodef=${only:+--no-default-features}
# The default build shares firmware-build's target dir; each other combination has its own.
dir=target
[ -z "$only" ] || dir=target/size-${features//,/-}
base=target/baseline
cargo build -q --release --target "$target" $nodef $fflag --target-dir "$dir"
cargo build -q --release --target "$target" --bin footprint --target-dir "$base" \
  --features "baseline${features:+,$features}"

row() { # label elf -> "text data bss"
  local t d b
  read -r t d b _ < <("$size" -B "$2" | tail -1)
  printf '  %-34s %7s %6s %6s\n' "$1" "$t" "$d" "$b"
  echo "$t $d $b" >"$3"
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "[size] $target${features:+ (--features $features)}${only:+, no default features}, opt-level s, LTO (llvm-size -B)"
printf '  %-34s %7s %6s %6s\n' binary text data bss
row "cbreaker-firmware (the demo)" "$dir/$target/release/cbreaker-firmware" "$tmp/demo"
row "footprint (guarded loop)" "$dir/$target/release/footprint" "$tmp/with"
row "footprint --features baseline" "$base/$target/release/footprint" "$tmp/without"
read -r wt wd wb <"$tmp/with"; read -r bt bd bb <"$tmp/without"
printf '  %-34s %7s %6s %6s\n' "breaker's share (delta)" $((wt - bt)) $((wd - bd)) $((wb - bb))
