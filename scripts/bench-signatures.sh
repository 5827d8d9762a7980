#!/usr/bin/env bash
# Signature verification throughput: vouch (in-process) against git (one gpg/ssh-keygen per commit).
#
# Builds three repositories of N commits each, signed by git itself with real keys made here
# (SSH Ed25519 via ssh-keygen, OpenPGP Ed25519 and OpenPGP RSA-4096 via gpg, GNUPGHOME isolated),
# then times:
#   - `vouch verify HEAD` (release build, whole command from a cold process, no cache) on 1 thread
#     (RAYON_NUM_THREADS=1) and on all cores;
#   - `git log --format=%G?`, `git log --show-signature` and `git verify-commit` on a sample of
#     the same commits;
# and prints commits/s for each and the ratios against `git log --format=%G?`.
#
# Usage: scripts/bench-signatures.sh [COMMITS]        (default 3000 per format)
#   FORMATS="ssh openpgp rsa4096" to choose the repositories (default all three).
#   VOUCH=path/to/vouch to use a given binary; otherwise `cargo build --release -p vouch-hooks`.
#   GIT_SAMPLE=N commits for the git side (default 300; git is slow).
#   BASELINE=path/to/older/vouch to time another build on the same repositories (before/after).
set -euo pipefail

N=${1:-3000}
GIT_SAMPLE=${GIT_SAMPLE:-300}
FORMATS=${FORMATS:-ssh openpgp rsa4096}
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z "${VOUCH:-}" ]]; then
  (cd "$here" && cargo build --release -q -p vouch-hooks)
  VOUCH="${CARGO_TARGET_DIR:-$here/target}/release/vouch"
fi
[[ -x "$VOUCH" ]] || { echo "no vouch binary at $VOUCH" >&2; exit 2; }

work=$(mktemp -d)
trap 'gpgconf --homedir "$work/gnupg" --kill gpg-agent 2>/dev/null || true; rm -rf "$work"' EXIT
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
export GIT_CONFIG_NOSYSTEM=1 HOME="$work"
git config --global user.name Bench
git config --global user.email bench@example.com
git config --global init.defaultBranch main

ssh-keygen -q -t ed25519 -N '' -C bench -f "$work/id_ed25519"
gpg --batch --quiet --passphrase '' --quick-gen-key 'Bench <bench@example.com>' ed25519 sign 0
fpr=$(gpg --with-colons --list-keys bench@example.com | awk -F: '/^fpr/ {print $10; exit}')
# RSA-4096: what most developers' gpg keys and GitHub's current web-flow key are.
if [[ " $FORMATS " == *" rsa4096 "* ]]; then
  gpg --batch --quiet --passphrase '' --quick-gen-key 'Bench RSA <bench@example.com>' rsa4096 sign 0
  rsa_fpr=$(gpg --with-colons --list-keys 'Bench RSA' | awk -F: '/^fpr/ {print $10; exit}')
fi

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

# make_repo DIR FORMAT: a policy commit trusting the key, then N signed commits.
make_repo() {
  local dir=$1 format=$2
  git init -q "$dir"
  cd "$dir"
  local key=$fpr
  if [[ $format == rsa4096 ]]; then key=$rsa_fpr; fi
  if [[ $format == ssh ]]; then
    git config gpg.format ssh
    git config user.signingkey "$work/id_ed25519"
  else
    git config gpg.format openpgp
    git config user.signingkey "$key"
  fi
  mkdir .vouch .vouch/keys
  printf '[signatures]\nrequired = true\n' > .vouch/policy.toml
  echo "bench@example.com namespaces=\"git\" $(cat "$work/id_ed25519.pub")" > .vouch/allowed_signers
  gpg --export --armor "$key" > .vouch/keys/bench.asc
  git add .vouch
  git commit -q -S -m policy
  git config gpg.ssh.allowedSignersFile "$dir/.vouch/allowed_signers"
  local tree parent
  tree=$(git rev-parse HEAD^{tree})
  parent=$(git rev-parse HEAD)
  for ((i = 1; i <= N; i++)); do
    parent=$(git commit-tree -S "$tree" -p "$parent" -m "commit $i")
  done
  git update-ref refs/heads/main "$parent"
  # Pack, as a clone or a server's repository is.
  git gc -q
  cd - >/dev/null
}

# best of 3 runs of a command: "wall-seconds cpu-seconds" (cpu = user + sys, so a figure
# stays meaningful on a machine shared with other work).
best() {
  local best_wall=999999 best_cpu=999999 line wall cpu
  for _ in 1 2 3; do
    line=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1 || true; } 2>&1 | tail -1 )
    wall=$(awk '{ print $1 }' <<<"$line")
    cpu=$(awk '{ print $2 + $3 }' <<<"$line")
    best_wall=$(awk -v a="$best_wall" -v b="$wall" 'BEGIN { print (b < a) ? b : a }')
    best_cpu=$(awk -v a="$best_cpu" -v b="$cpu" 'BEGIN { print (b < a) ? b : a }')
  done
  echo "$best_wall $best_cpu"
}

printf 'vouch signature benchmark: %s commits per format, %s cores, git sample %s\n' "$N" "$(nproc)" "$GIT_SAMPLE"
printf 'load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
printf '%-8s %-34s %10s %12s\n' format command seconds commits/s
for format in $FORMATS; do
  repo="$work/$format"
  t0=$(now); make_repo "$repo" "$format"; t1=$(now)
  echo "  (built $format repository in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s)" >&2
  total=$((N + 1))
  cd "$repo"
  # vouch must accept every commit, or the figure means nothing.
  "$VOUCH" verify HEAD >/dev/null 2>&1 || { echo "vouch verify failed on the $format repository" >&2; "$VOUCH" verify HEAD | head -20; exit 1; }
  read -r s1 c1 < <(best env RAYON_NUM_THREADS=1 "$VOUCH" verify HEAD)
  read -r sn _ < <(best "$VOUCH" verify HEAD)
  if [[ -n "${BASELINE:-}" ]]; then
    # An older build may call some of these commits bad: it is timed whatever it says.
    read -r b1 _ < <(best env RAYON_NUM_THREADS=1 "$BASELINE" verify HEAD)
    read -r bn _ < <(best "$BASELINE" verify HEAD)
  fi
  sample=$((GIT_SAMPLE < total ? GIT_SAMPLE : total))
  # git's own letter per commit (one gpg or ssh-keygen per commit): the yardstick.
  t0=$(now); git log --format=%G? -n "$sample" >/dev/null 2>&1; t1=$(now)
  sg=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  t0=$(now); git log --show-signature -n "$sample" >/dev/null 2>&1; t1=$(now)
  sl=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  vc_sample=$((sample / 3))
  t0=$(now)
  git rev-list -n "$vc_sample" HEAD | while read -r c; do git verify-commit "$c" >/dev/null 2>&1; done
  t1=$(now)
  sv=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  r1=$(rate "$total" "$s1"); rn=$(rate "$total" "$sn")
  rg=$(rate "$sample" "$sg"); rl=$(rate "$sample" "$sl"); rv=$(rate "$vc_sample" "$sv")
  printf '%-8s %-34s %10.3f %12s\n' "$format" "vouch verify (1 thread)" "$s1" "$r1"
  printf '%-8s %-34s %10.3f %12s\n' "$format" "  same, by CPU time (user+sys)" "$c1" "$(rate "$total" "$c1")"
  printf '%-8s %-34s %10.3f %12s\n' "$format" "vouch verify ($(nproc) threads)" "$sn" "$rn"
  if [[ -n "${BASELINE:-}" ]]; then
    printf '%-8s %-34s %10.3f %12s\n' "$format" "baseline verify (1 thread)" "$b1" "$(rate "$total" "$b1")"
    printf '%-8s %-34s %10.3f %12s\n' "$format" "baseline verify ($(nproc) threads)" "$bn" "$(rate "$total" "$bn")"
  fi
  printf '%-8s %-34s %10.3f %12s\n' "$format" "git log --format=%G? ($sample)" "$sg" "$rg"
  printf '%-8s %-34s %10.3f %12s\n' "$format" "git log --show-signature ($sample)" "$sl" "$rl"
  printf '%-8s %-34s %10.3f %12s\n' "$format" "git verify-commit ($vc_sample)" "$sv" "$rv"
  printf '%-8s ratio vouch / git log --format=%%G?: 1 thread %sx, all cores %sx\n' "$format" \
    "$(awk -v a="$r1" -v b="$rg" 'BEGIN { printf "%.1f", a / b }')" \
    "$(awk -v a="$rn" -v b="$rg" 'BEGIN { printf "%.1f", a / b }')"
  printf '%-8s ratio vouch / git log --show-signature: 1 thread %sx, all cores %sx\n' "$format" \
    "$(awk -v a="$r1" -v b="$rl" 'BEGIN { printf "%.0f", a / b }')" \
    "$(awk -v a="$rn" -v b="$rl" 'BEGIN { printf "%.0f", a / b }')"
  cd - >/dev/null
done
