#!/usr/bin/env bash
# Time CODEOWNERS matching: 100,000 paths against a 5,000-line CODEOWNERS (release build).
# Usage: scripts/bench-codeowners.sh [LINES [PATHS]]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release -p vouch-rules --example bench_codeowners
target_dir="${CARGO_TARGET_DIR:-target}"
"$target_dir/release/examples/bench_codeowners" "${1:-5000}" "${2:-100000}"
