#!/usr/bin/env bash
# The bot's figures: webhook acknowledgement p50/p99 at 200 deliveries/s, webhook -> completed
# check run for a 20-commit pull request on a warm mirror, idle memory. Loopback only: the bot
# runs against the fake GitHub in tests/fake-github.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p vouch-bot -p vouch-hooks
cargo bench --locked -q --bench bot
