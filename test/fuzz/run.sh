#!/usr/bin/env bash
# One fuzz test (ctest label fuzz): runs the harness on TARGET for a bounded
# time, starting from the committed corpus, which it never modifies (new
# inputs go to a temporary folder). Usage: test/fuzz/run.sh TARGET [SECONDS]
# (default 15, a cap); FUZZ_RUNS inputs (default 3000) from FUZZ_SEED (1);
# FUZZ (the harness, default build/fuzz/bin/invkit-fuzz) and
# CORPUS (default test/fuzz/corpus) come from ctest.
# Exits 77 (skipped) when the harness is not built (libFuzzer's own exit code
# for a finding is 77 too: told to use 1); a finding fails the test
# and leaves the input in build/fuzz/artifacts/.
set -euo pipefail
target=$1 seconds=${2:-15}
root=$(cd "$(dirname "$0")/../.." && pwd)
FUZZ=${FUZZ:-$root/build/fuzz/bin/invkit-fuzz} CORPUS=${CORPUS:-$root/test/fuzz/corpus}
if [ ! -x "$FUZZ" ]; then
  echo "skipped: no fuzz harness at $FUZZ (scripts/test builds it with clang)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/new"
export TMPDIR=$work  # the harness's input file too, left behind by a crash
artifacts="$(dirname "$(dirname "$FUZZ")")/artifacts"
mkdir -p "$artifacts"
# LibTorch keeps allocations alive until exit: leaks are no finding here.
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1
# A fixed seed and a fixed number of inputs make the test the same on every
# machine (the run is a regression check; longer runs find new things:
# docs/fuzzing.md); the time limit only guards a slow machine.
"$FUZZ" --target="$target" -seed="${FUZZ_SEED:-1}" -runs="${FUZZ_RUNS:-3000}" -max_total_time="$seconds" \
  -timeout=10 -rss_limit_mb=2048 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -artifact_prefix="$artifacts/$target-" -print_final_stats=1 "$work/new" "$CORPUS/$target"
