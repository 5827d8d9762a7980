#!/usr/bin/env bash
# How much time vouch's local hooks add to `git commit`, on this machine.
# Makes a throwaway repository with a policy and three hook folders — none, two `exit 0` hooks,
# and vouch's pre-commit + commit-msg hooks — then makes N commits with each, interleaved
# (so machine load drifts alike for all three), and prints the medians and the overheads.
# Usage: scripts/bench-hooks.sh [N]   (builds a release binary first)
set -euo pipefail
n=${1:-200}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p vouch-hooks
bin="${CARGO_TARGET_DIR:-$root/target}/release/vouch"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_GLOBAL="$work/gitconfig" GIT_CONFIG_NOSYSTEM=1
git config --global user.email bench@example.com
git config --global user.name bench
git init -q -b main "$work/repo"
cd "$work/repo"
mkdir .vouch
printf '[signatures]\nrequired = false\n[[branch]]\npattern = "main"\n' > .vouch/policy.toml
for i in $(seq 1 10); do printf 'fn f%s() -> u32 { %s }\n' "$i" "$i" > "src$i.rs"; done
git add -A && git commit -q -m init

mkdir -p "$work/none" "$work/trivial"
for h in pre-commit commit-msg; do printf '#!/bin/sh\nexit 0\n' > "$work/trivial/$h"; chmod +x "$work/trivial/$h"; done
git config core.hooksPath "$work/vouch"
"$bin" install >/dev/null 2>&1
git config --unset core.hooksPath

for i in $(seq 1 "$n"); do
  for kind in none trivial vouch; do
    echo "$i $kind" >> src1.rs
    git add src1.rs
    s=$(date +%s%N); git -c core.hooksPath="$work/$kind" commit -q -m "change $i"; e=$(date +%s%N)
    echo $((e - s)) >> "$work/$kind.times"
  done
done
median_ms() { sort -n "$1" | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1e6}'; }
base=$(median_ms "$work/none.times")
trivial=$(median_ms "$work/trivial.times")
with=$(median_ms "$work/vouch.times")
for i in $(seq 1 "$n"); do s=$(date +%s%N); "$bin" hook pre-commit >/dev/null 2>&1; e=$(date +%s%N); echo $((e - s)); done > "$work/direct.times"
echo "git commit, no hooks:            ${base} ms (median of $n, interleaved)"
echo "git commit, two 'exit 0' hooks:  ${trivial} ms"
echo "git commit, vouch hooks:         ${with} ms"
echo "vouch overhead per hook:         $(awk "BEGIN {printf \"%.2f\", ($with - $base) / 2}") ms over no hook, $(awk "BEGIN {printf \"%.2f\", ($with - $trivial) / 2}") ms over an 'exit 0' hook"
echo "vouch hook pre-commit, alone:    $(median_ms "$work/direct.times") ms (process start included)"
