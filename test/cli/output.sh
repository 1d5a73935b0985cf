# Writing outputs, as every tool does it: a FIFO or device is written in
# place (never replaced by a rename), a directory is an error, and a failure
# leaves nothing behind.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LIB"
setup() { python3 "$HERE/make_dataset.py" in.st --classes 3 --per-class 4 --size 4; }

test_fifo() {
  mkfifo pipe
  cat pipe > received.st &
  resample --per-class 2 --seed 1 in.st -o pipe
  wait
  [ -p pipe ] || fail "the FIFO was replaced by a file"
  [ "$(json received.st "d['manifest']['class_counts']")" = "[2, 2, 2]" ] || fail "FIFO output"
  [ ! -e pipe.tmp ] || fail "a temporary file was left next to the FIFO"
}

test_errors() {
  mkdir out.st
  expect_fail 1 'out.st: is a directory' resample --per-class 2 in.st -o out.st
  expect_fail 1 'cannot create' resample --per-class 2 in.st -o no-such-dir/out.st
  [ -z "$(ls no-such-dir 2>/dev/null)" ] || fail "partial output"
}

run_tests "$@"
