# Shared helpers for the setup steps in mk/*.mk. Source it: `. .ci/lib.sh`.
# Every helper checks first and installs only what is missing (idempotent, cache-friendly).

CBREAKER_CACHE="${CBREAKER_CACHE:-$HOME/.cache/cbreaker}"
mkdir -p "$CBREAKER_CACHE"

log() { printf '[setup] %s\n' "$*" >&2; }

# apt_install PKG...: installs the Debian packages that are not installed yet.
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  log "apt: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# cargo_tool CRATE VERSION BIN: installs a pinned cargo tool into $CBREAKER_CACHE/cargo-tools.
# Tries --locked first; some tools' lockfiles name crates this registry lacks.
cargo_tool() {
  local crate=$1 ver=$2 bin=$3
  export CARGO_INSTALL_ROOT="$CBREAKER_CACHE/cargo-tools"
  if "$CARGO_INSTALL_ROOT/bin/$bin" --version 2>/dev/null | grep -qF "$ver"; then return 0; fi
  log "cargo install $crate $ver"
  CARGO_TARGET_DIR="$CBREAKER_CACHE/install-target" cargo install -q "$crate" --version "=$ver" --locked \
    || CARGO_TARGET_DIR="$CBREAKER_CACHE/install-target" cargo install -q "$crate" --version "=$ver" --force
}

# rust_targets TARGET...: adds the rustup targets that are missing (stable).
rust_targets() {
  local installed t missing=()
  installed=$(rustup target list --installed)
  for t in "$@"; do grep -qx "$t" <<<"$installed" || missing+=("$t"); done
  ((${#missing[@]})) || return 0
  log "rustup target add ${missing[*]}"
  rustup target add "${missing[@]}" >/dev/null
}

# nightly_components COMPONENT...: makes sure the nightly toolchain and components exist.
nightly_components() {
  local nightly="${NIGHTLY:-nightly}"
  rustup toolchain list | grep -q "^${nightly}" || rustup toolchain install "$nightly" --profile minimal
  rustup component add --toolchain "$nightly" "$@" >/dev/null 2>&1
}
