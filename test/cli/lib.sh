# Shared helpers for the tool tests (sourced; ctest sets BIN, FIXTURES, LIB).
#
# A tool test, test/cli/TOOL.sh, sources this file, defines each behaviour
# as a function whose line starts `test_NAME() {`, and ends with
# `run_tests "$@"`. CMake (test/CMakeLists.txt) finds those lines: each
# behaviour is the ctest cli.TOOL.NAME, which runs `bash TOOL.sh NAME`.
# A behaviour starts in an empty folder of its own and makes what it needs
# there: a function `setup`, if the script has one, runs first, and the
# script's fixture functions (a trained checkpoint...) are called by the
# behaviours that need them. So any behaviour passes alone, in any order,
# in parallel. `bash TOOL.sh` runs every behaviour of the script in turn.
set -euo pipefail
export PATH="$BIN:$PATH"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }

# skip REASON: ctest reports the behaviour as skipped (SKIP_RETURN_CODE 77).
skip() { echo "SKIP: $*"; exit 77; }

# expect_fail CODE PATTERN CMD...: CMD must exit CODE with PATTERN in stderr
# and must not print to stdout.
expect_fail() {
  local code=$1 pattern=$2; shift 2
  local rc=0
  "$@" >"$WORK/.out" 2>"$WORK/.err" || rc=$?
  [ "$rc" -eq "$code" ] || fail "$*: exit $rc, expected $code; stderr: $(cat "$WORK/.err")"
  grep -q -- "$pattern" "$WORK/.err" || fail "$*: stderr lacks '$pattern': $(cat "$WORK/.err")"
  [ "$(wc -l <"$WORK/.err")" -eq 1 ] || fail "$*: error is not one line: $(cat "$WORK/.err")"
}

# interrupt SIGNAL LOG CMD...: runs CMD in the background (stderr to
# sig.err), sends it SIGNAL once LOG holds a record, and sets rc to its exit
# status.
interrupt() {
  local signal=$1 log=$2 pid; shift 2
  "$@" 2>sig.err &
  pid=$!
  for _ in $(seq 600); do [ -s "$log" ] && break; sleep 0.1; done
  kill -"$signal" "$pid"
  rc=0; wait "$pid" || rc=$?
}

# json FILE FILTER: a value from inspect --json, via python3 (no jq needed).
json() { inspect --json "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }

# run_tests [NAME...]: runs the behaviours test_NAME of the calling script,
# every one when none is named, each in a new folder under $WORK after the
# script's setup. Called last, with the script's arguments.
run_tests() {
  local script=$0 name
  local -a all
  mapfile -t all < <(sed -n 's/^test_\([A-Za-z0-9_-]*\)() *{.*/\1/p' "$script")
  [ $# -gt 0 ] || set -- "${all[@]}"
  for name; do
    declare -F "test_$name" >/dev/null ||
      { echo "$script: no behaviour '$name'; it has: ${all[*]}" >&2; exit 2; }
  done
  for name; do
    mkdir "$WORK/$name"
    cd "$WORK/$name"
    if declare -F setup >/dev/null; then setup; fi
    "test_$name"
    echo "$name: ok"
  done
}
