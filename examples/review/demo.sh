#!/usr/bin/env bash
# Judge the example pull requests with `vouch review`, on real commits.
#
#   examples/review/demo.sh pass|fail [WORKDIR] [-- vouch review options, e.g. --format json]
#
# pass.json and fail.json are what the forge knows (who opened, pushed, reviewed; teams,
# permissions, e-mails). The commits come from git, so this script first builds a repository
# holding them: `main` with this folder's .vouch/ and CODEOWNERS, and the pull request's two
# commits on `topic` — in pass, the second is an update merge really signed by the bot's key
# (made here); in fail, a commit that claims to be the bot's but is unsigned. It then writes the
# example with the real commit ids into WORKDIR and runs `vouch review` from inside the clone.
# VOUCH names the binary (default: `vouch` on PATH).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
case=${1:?usage: demo.sh pass|fail [WORKDIR] [-- options]}
shift
work=$(mktemp -d)
if [ $# -gt 0 ] && [ "$1" != "--" ]; then work=$1; shift; fi
[ "${1:-}" = "--" ] && shift
vouch=${VOUCH:-vouch}
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$work"
export GIT_AUTHOR_DATE=2026-11-25T08:00:00Z GIT_COMMITTER_DATE=2026-11-25T08:00:00Z

repo="$work/repo"
git init -q -b main "$repo"
cd "$repo"
ssh-keygen -q -t ed25519 -N '' -C vouch-bot -f "$work/bot"
cp -r "$here/.vouch" .vouch
echo "vouch-bot $(cat "$work/bot.pub")" > .vouch/allowed_signers
mkdir -p .github src/payments docs/generated
cp "$here/CODEOWNERS" .github/CODEOWNERS
echo "# Payments" > README.md
git add -A
git -c user.name=Maintainer -c user.email=maint@acme.example commit -q -m "policy and owners"

git checkout -q -b topic
as() { local name=$1 email=$2; shift 2; git -c user.name="$name" -c user.email="$email" "$@"; }
if [ "$case" = pass ]; then
  echo "fn charge() {}" > src/payments/charge.rs
  echo "More docs." >> README.md
  echo "<html></html>" > docs/generated/api.html
  git add -A
  as "Alice Example" alice@acme.example commit -q -m "Charge cards" \
    -m "Co-authored-by: Bob Example <bob@users.noreply.example>"
  echo "fn charge() { /* merged */ }" > src/payments/charge.rs
  git add -A
  as vouch-bot bot@vouch.example -c gpg.format=ssh -c user.signingkey="$work/bot" \
    commit -q -S -m "Update from main" -m "Co-authored-by: Carol Example <carol@acme.example>"
  old_head=9c1e5b7a3d2f4e6081726354a5b6c7d8e9f00112
else
  echo "fn refund() {}" > src/payments/refund.rs
  printf '\n[commit_message]\nrequire_signoff = true\n' >> .vouch/policy.toml
  git add -A
  as "Alice Example" alice@acme.example commit -q -m "Refunds" \
    -m "Co-authored-by: Bob Example <bob@users.noreply.example>"
  echo "- refunds" > CHANGELOG.md
  git add -A
  GIT_AUTHOR_NAME=vouch-bot GIT_AUTHOR_EMAIL=bot@vouch.example \
    as "Carol Example" carol@acme.example commit -q -m "Changelog"
  old_head=b7d4e2f1a0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5
fi
first=$(git rev-parse HEAD~1)
head=$(git rev-parse HEAD)
sed -e "s/3f2a1c94d5e6f708192a3b4c5d6e7f8091a2b3c4/$first/g" -e "s/$old_head/$head/g" \
  "$here/$case.json" > "$work/$case.json"
git checkout -q main
exec "$vouch" review --input "$work/$case.json" "$@"
