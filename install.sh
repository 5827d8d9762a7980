#!/usr/bin/env bash
# Install vouch on a Debian/Ubuntu machine: the system packages the build and tests need (only
# those missing), a release build from the locked dependency set, and the `vouch` binary on PATH.
# Safe to run again: it installs nothing that is already there.
set -euo pipefail

usage() {
  cat <<'TXT'
Usage: ./install.sh [--prefix DIR] [--test] [--no-install] [--help]

  (no option)    install missing system packages, build vouch (release, --locked) and install
                 it as PREFIX/bin/vouch (default prefix /usr/local)
  --prefix DIR   install into DIR/bin instead of /usr/local/bin
  --test         install what the tests need, then run the whole suite: formatting, clippy,
                 every test in the workspace, the built-in secret-rule examples, and every
                 fuzz target for FUZZ_SECONDS each (default 20; 0 only builds them)
  --no-install   build only; do not copy the binary
  --help         this text

Needs a Rust toolchain (cargo) on PATH; rustup's default toolchain works.
TXT
}

prefix=/usr/local
mode=install
copy=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --test) mode=test; shift ;;
    --no-install) copy=no; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")"

# System packages: a C compiler for libgit2 (and C++ for libFuzzer, in build-essential),
# pkg-config, git itself, and the reference tools the tests compare against (gpg, ssh-keygen).
packages=(build-essential pkg-config git gnupg openssh-client ca-certificates)
# The tests also start a real PostgreSQL (the bot's shared queue), make RSA keys for the GitHub
# App with openssl, and check the attestations' DSSE envelopes with securesystemslib in a venv
# (python3-venv), independently of vouch.
if [ "$mode" = test ]; then packages+=(postgresql openssl python3 python3-venv); fi
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  echo "install.sh: not a Debian-based system; make sure these are installed: ${packages[*]}" >&2
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  echo "install.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  for c in "$HOME/.cargo/bin/cargo" /usr/local/cargo/bin/cargo; do
    [ -x "$c" ] && PATH="$(dirname "$c"):$PATH" && break
  done
fi
command -v cargo >/dev/null 2>&1 || {
  echo "install.sh: cargo not found; install a Rust toolchain (rustup, stable ≥ 1.85) and run again" >&2
  exit 1
}

if [ "$mode" = test ]; then
  # The independent DSSE verifier the attestation tests run, from PyPI, in a venv of its own.
  # The tests fail (never skip) without it when CI is set.
  venv="${VOUCH_TEST_VENV:-$PWD/target/test-venv}"
  if ! "$venv/bin/python" -c 'import securesystemslib.dsse, cryptography' >/dev/null 2>&1; then
    echo "install.sh: creating $venv with securesystemslib"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'securesystemslib[crypto]>=1.0,<2'
  fi
  export VOUCH_TEST_PYTHON="$venv/bin/python"
  # Tests sign with real gpg and ssh-keygen; they must not depend on the user's configuration.
  cargo fmt --all --check
  cargo clippy --workspace --all-targets --locked -- -D warnings
  # The end-to-end tests run the vouch and vouch-bot binaries: cargo test builds a package's own
  # binaries only, so build every one first.
  cargo build --workspace --locked --bins
  cargo test --workspace --locked --no-fail-fast
  cargo run --quiet --locked -p vouch-hooks -- rules test
  # Secret-scanning accuracy on the labelled corpus (prints recall and false-alarm rate).
  VOUCH="${CARGO_TARGET_DIR:-target}/debug/vouch" MIN_RECALL=90 MAX_FALSE=2 scripts/eval-secrets.sh
  # Every fuzz target, briefly, from its committed seeds: a parser regression crashes here.
  # Plain cargo on the stable toolchain builds them (see scripts/fuzz.sh); nothing to install.
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
  exit 0
fi

cargo build --release --locked -p vouch-hooks
bin=target/release/vouch
[ -n "${CARGO_TARGET_DIR:-}" ] && bin="$CARGO_TARGET_DIR/release/vouch"
if [ "$copy" = yes ]; then
  dest="$prefix/bin"
  sudo=""
  if ! mkdir -p "$dest" 2>/dev/null || [ ! -w "$dest" ]; then
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo=sudo
  fi
  $sudo mkdir -p "$dest"
  $sudo install -m 0755 "$bin" "$dest/vouch"
  echo "install.sh: installed $dest/vouch ($("$dest/vouch" --version))"
  case ":$PATH:" in *":$dest:"*) ;; *) echo "install.sh: add $dest to PATH" ;; esac
else
  echo "install.sh: built $bin"
fi
