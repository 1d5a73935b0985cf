# Shared helpers for the tool tests (sourced; ctest sets BIN, FIXTURES, LIB).
set -euo pipefail
export PATH="$BIN:$PATH"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }

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

# json FILE FILTER: a value from inspect --json, via python3 (no jq needed).
json() { inspect --json "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }
