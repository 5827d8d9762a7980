#!/usr/bin/env bash
# Run every fuzz target in fuzz/ for SECONDS each (default 60) on the stable toolchain, starting
# from the seeds committed in fuzz/corpus/<target>/, and print executions and crashes per target.
#
# The targets are libFuzzer (libfuzzer-sys) binaries, built with plain `cargo build` and the
# coverage flags cargo-fuzz passes for `-s none` — all stable rustc options — so nothing beyond
# the Rust toolchain and a C++ compiler is needed (`RUSTC_BOOTSTRAP=1 cargo fuzz run T -s none`
# in fuzz/ runs the same targets for anyone who has cargo-fuzz). No sanitizer: safe Rust needs
# none to turn a bug into a crash; debug assertions and overflow checks are on.
#
# New inputs found go to fuzz/target/corpus/<target>/ (kept between runs, never committed);
# a crash is saved under fuzz/artifacts/<target>/ and fails the script (a slow-unit report
# there is libFuzzer noting a slow input, not a failure). FUZZ_TARGETS="a b"
# runs a subset; SECONDS = 0 only builds. Exit: 0 clean, 1 a target crashed, hung or failed to
# build.
set -euo pipefail

case "${1:-}" in
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
seconds=${1:-60}
case "$seconds" in
  ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, not ${seconds:?}" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$root/fuzz"
triple="$(rustc -vV | sed -n 's/^host: //p')"
# --target keeps these flags off build scripts and proc macros, as cargo-fuzz does.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks ${FUZZ_RUSTFLAGS:-}"
export CARGO_TARGET_DIR="$fuzz/target"

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' "$fuzz/Cargo.toml" | grep -vx vouch-fuzz)
fi

bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
echo "fuzz.sh: building ${#targets[@]} targets (release, coverage-instrumented)" >&2
cargo build --quiet --manifest-path "$fuzz/Cargo.toml" --release --locked --target "$triple" "${bins[@]}"
bindir="$fuzz/target/$triple/release"
[ "$seconds" -gt 0 ] || exit 0

failed=0
printf '%-18s %12s %10s  %s\n' target executions crashes result
for t in "${targets[@]}"; do
  seeds="$fuzz/corpus/$t"
  work="$fuzz/target/corpus/$t"
  artifacts="$fuzz/artifacts/$t"
  log="$fuzz/target/fuzz-$t.log"
  [ -d "$seeds" ] || { echo "fuzz.sh: no seed corpus $seeds" >&2; exit 1; }
  mkdir -p "$work" "$artifacts"
  before=$(find "$artifacts" -type f ! -name 'slow-unit-*' | wc -l)
  status=0
  "$bindir/$t" "$work" "$seeds" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  crashes=$(( $(find "$artifacts" -type f ! -name 'slow-unit-*' | wc -l) - before ))
  result=clean
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ]; then
    result="FAILED (exit $status; log $log)"
    failed=1
    grep -m1 -E "panicked|ERROR: libFuzzer|deadly signal|timeout" "$log" >&2 || tail -5 "$log" >&2
  fi
  printf '%-18s %12s %10s  %s\n' "$t" "${execs:-?}" "$crashes" "$result"
done
exit "$failed"
