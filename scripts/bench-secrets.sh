#!/usr/bin/env bash
# Benchmark vouch's secret scanner on real third-party code: cargo's registry sources.
#
#   scripts/bench-secrets.sh [CORPUS_MB]      (default 120)
#
# Builds (once, under $BENCH_DIR, default /tmp/vouch-bench) a corpus of registry crate sources,
# scans it as a directory (whole process, start-up included), as a synthetic git history (one
# commit per crate) against `git log -p` over the same range, and times a pre-commit scan of
# 10 staged files. Prints the lowest of several runs, warm cache. Uses the release build.
set -euo pipefail

want_mb=${1:-120}
root=$(cd "$(dirname "$0")/.." && pwd)
bench=${BENCH_DIR:-/tmp/vouch-bench}
target=${CARGO_TARGET_DIR:-$root/target}
registry=${CARGO_HOME:-$HOME/.cargo}/registry/src
runs=${RUNS:-5}

cargo build --release -q -p vouch-hooks --manifest-path "$root/Cargo.toml"
vouch=$target/release/vouch

best() { # best-of-$runs wall time in seconds of "$@" (output discarded)
  local best=999999 t0 t1 dt
  for _ in $(seq "$runs"); do
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N)
    dt=$(echo "$t1 - $t0" | bc -l)
    if (( $(echo "$dt < $best" | bc -l) )); then best=$dt; fi
  done
  printf '%.4f' "$best"
}

corpus=$bench/corpus
if [ ! -d "$corpus" ]; then
  echo "building a ${want_mb} MB corpus from $registry ..." >&2
  mkdir -p "$corpus"
  total=0
  for crate in $(ls -d "$registry"/*/*/ | sort); do
    cp -r "$crate" "$corpus/" 2>/dev/null || true
    total=$(du -sm "$corpus" | cut -f1)
    [ "$total" -ge "$want_mb" ] && break
  done
fi
bytes=$(find "$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
files=$(find "$corpus" -type f | wc -l)
mb=$(echo "$bytes / 1000000" | bc -l)
find "$corpus" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true   # warm the page cache

echo "corpus: $(printf '%.0f' "$mb") MB, $files files (cargo registry sources)"

# 1. Directory scan, whole process (start-up included).
t=$(best "$vouch" scan --no-ignore "$corpus")
printf 'directory scan: %.3f s, %.0f MB/s\n' "$t" "$(echo "$mb / $t" | bc -l)"
rg_t=""
if command -v rg >/dev/null; then
  t_rg=$(best rg -c --no-ignore -e 'ghp_|AKIA|sk_live_|xoxb-|glpat-' "$corpus")
  printf '  (ripgrep, 5-prefix alternation: %.3f s, %.0f MB/s)\n' "$t_rg" "$(echo "$mb / $t_rg" | bc -l)"
fi

# 2. Synthetic history: one commit per crate directory.
repo=$bench/history
if [ ! -d "$repo/.git" ]; then
  echo "building a synthetic history ..." >&2
  git init -q "$repo"
  for crate in $(ls -d "$corpus"/*/); do
    cp -r "$crate" "$repo/"
    git -C "$repo" add -A >/dev/null
    git -C "$repo" -c gc.auto=0 -c user.name=bench -c user.email=bench@example.invalid commit -q -m "add $(basename "$crate")"
  done
  git -C "$repo" gc -q
fi
commits=$(git -C "$repo" rev-list --count HEAD)
t_git=$(best git -C "$repo" log -p HEAD)
t_v=$(best "$vouch" -C "$repo" scan --git HEAD)
printf 'history: %s commits; vouch scan --git HEAD %.3f s (%.0f commits/s); git log -p %.3f s (%.0f commits/s)\n' \
  "$commits" "$t_v" "$(echo "$commits / $t_v" | bc -l)" "$t_git" "$(echo "$commits / $t_git" | bc -l)"
t_all=$(best "$vouch" -C "$repo" scan --git --all)
printf 'history: vouch scan --git --all %.3f s\n' "$t_all"

# 3. pre-commit: 10 staged files (modified source files of the synthetic history).
pre=$bench/precommit
rm -rf "$pre"
git clone -q "$repo" "$pre"
for f in $(git -C "$pre" ls-files '*.rs' | head -10); do
  printf '\n// edited for the pre-commit benchmark\nfn bench_added() {}\n' >> "$pre/$f"
done
git -C "$pre" add -A
t_pre=$(best "$vouch" -C "$pre" scan --staged)
printf 'pre-commit (vouch scan --staged, 10 files, whole process): %.1f ms\n' "$(echo "$t_pre * 1000" | bc -l)"
t_start=$(best "$vouch" --version)
printf 'start-up (vouch --version): %.1f ms\n' "$(echo "$t_start * 1000" | bc -l)"
