#!/usr/bin/env bash
# Attestation figures:
#   1. `vouch attest verify` over an attested first-parent branch of N commits (default 10000):
#      commits per second, whole command from a cold process (release build). The history is made
#      with `git fast-import` and its notes by examples/attest/history.rs, signed with a real
#      Ed25519 verifier key, chained exactly as `vouch merge` chains them.
#   2. `vouch merge` of a branch of M SSH-signed commits (default 50), end to end, against git's
#      own cost for the same signed merge (`git merge --no-ff -S` on an identical copy).
#
# Usage: scripts/bench-attest.sh [N] [M]
#   VOUCH=path/to/vouch to use a given binary; otherwise `cargo build --release -p vouch-hooks`.
set -euo pipefail

N=${1:-10000}
M=${2:-50}
here=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$here/target}"
(cd "$here" && cargo build --release -q -p vouch-hooks && cargo build --release -q -p vouch-tests --example attest-history)
VOUCH=${VOUCH:-$target/release/vouch}
HISTORY=$target/release/examples/attest-history
[[ -x "$VOUCH" ]] || { echo "no vouch binary at $VOUCH" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$work" GIT_CONFIG_GLOBAL="$work/.gitconfig"
git config --global user.name Bench
git config --global user.email bench@example.com
git config --global init.defaultBranch main

now() { date +%s.%N; }
ssh-keygen -q -t ed25519 -N '' -C bench -f "$work/signer"
ssh-keygen -q -t ed25519 -N '' -C verifier -f "$work/verifier"

policy() {
  mkdir -p "$1/.vouch"
  printf 'bench@example.com %s\nvouch-verifier %s\n' "$(cat "$work/signer.pub")" "$(cat "$work/verifier.pub")" >"$1/.vouch/allowed_signers"
  cat >"$1/.vouch/policy.toml" <<'TOML'
[signatures]
required = true

[[branch]]
pattern = "main"
push_allow = ["bench"]

[attestation]
trusted_verifiers = ["vouch-verifier"]
TOML
}

# 1. A long attested branch.
repo="$work/long"
git init -q "$repo"
policy "$repo"
{
  blob() { printf 'blob\nmark :%s\ndata %s\n%s\n' "$1" "$(wc -c <"$2")" "$(cat "$2")"; }
  blob 1 "$repo/.vouch/policy.toml"
  blob 2 "$repo/.vouch/allowed_signers"
  t=1700000000
  for i in $(seq 1 "$N"); do
    printf 'commit refs/heads/main\ncommitter Bench <bench@example.com> %s +0000\ndata 9\nchange %s\n' $((t + i)) "$(printf '%02d' $((i % 100)))"
    if [[ $i -eq 1 ]]; then
      printf 'M 100644 :1 .vouch/policy.toml\nM 100644 :2 .vouch/allowed_signers\n'
    fi
    printf 'M 100644 inline counter.txt\ndata %s\n%s\n\n' "${#i}" "$i"
  done
} | git -C "$repo" fast-import --quiet
git -C "$repo" rev-list --first-parent --reverse main |
  "$HISTORY" "$work/verifier" "$repo" refs/heads/main refs/notes/vouch |
  git -C "$repo" fast-import --quiet
# The history carries the policy files now; the copies fast-import read them from go.
rm -rf "$repo/.vouch"
git -C "$repo" checkout -q main
start=$(now)
"$VOUCH" -C "$repo" attest verify >"$work/verify.out"
end=$(now)
grep -q "$N attestations covering $N commits" "$work/verify.out" || { cat "$work/verify.out"; exit 1; }
awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "attest verify: %d commits in %.2f s = %.0f commits/s\n", n, e - s, n / (e - s) }'

# 2. A merge of an M-commit signed branch.
repo="$work/merge"
git init -q "$repo"
git -C "$repo" config gpg.format ssh
git -C "$repo" config user.signingkey "$work/signer"
git -C "$repo" config commit.gpgsign true
git -C "$repo" config vouch.pusher bench
policy "$repo"
git -C "$repo" add -A
git -C "$repo" commit -q -m policy
git -C "$repo" switch -q -c feature
for i in $(seq 1 "$M"); do
  echo "$i" >"$repo/file-$i.txt"
  git -C "$repo" add -A
  git -C "$repo" commit -q -m "change $i"
done
git -C "$repo" switch -q main
cp -a "$repo" "$work/plain"
start=$(now)
git -C "$work/plain" merge -q --no-ff -S -m "Merge branch 'feature'" feature
end=$(now)
git_cost=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }')
start=$(now)
"$VOUCH" -C "$repo" merge feature --attestation-key "$work/verifier" 2>"$work/merge.err"
end=$(now)
grep -q "attestation sha256:" "$work/merge.err" || { cat "$work/merge.err"; exit 1; }
"$VOUCH" -C "$repo" attest verify >/dev/null
awk -v m="$M" -v s="$start" -v e="$end" -v g="$git_cost" 'BEGIN { printf "vouch merge of %d signed commits: %.3f s end to end (git merge -S alone: %.3f s; vouch on top: %.3f s)\n", m, e - s, g, e - s - g }'
