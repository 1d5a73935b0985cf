# inspect: prints manifest and tensors; every malformed file is a one-line error, exit 1.
source "$LIB"

# A plain safetensors file, as text.
test_text() {
  inspect "$FIXTURES/python-f32-u8-meta.safetensors" > out.txt
  grep -q 'manifest: none (plain safetensors)' out.txt || fail "plain file not reported as such"
  grep -Eq '^  a +F32 +\[2, 2\]$' out.txt || fail "tensor table: $(cat out.txt)"
}

# --json: every dtype, in the file's order; stdin works (a pipe: no seeking).
test_json() {
  [ "$(json "$FIXTURES/python-all-dtypes.safetensors" "len(d['tensors'])")" = 10 ] || fail "dtype count"
  [ "$(json "$FIXTURES/python-all-dtypes.safetensors" "d['tensors'][0]['dtype']")" = I64 ] || fail "order"
  [ "$(cat "$FIXTURES/python-f32-u8-meta.safetensors" | inspect --json - | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["k"])')" = v ] || fail "stdin"
}

# Each malformed file, a missing one, and usage: one line, exit 1 (2 for usage).
test_errors() {
  expect_fail 1 'truncated.st: not a valid safetensors file: tensor "a": data_offsets end 16 is past the data (14 bytes): truncated file?' inspect "$FIXTURES/truncated.st"
  expect_fail 1 'header length 4096 runs past the end' inspect "$FIXTURES/header-past-end.st"
  expect_fail 1 'overlaps the tensor before it' inspect "$FIXTURES/overlapping-offsets.st"
  expect_fail 1 'unknown dtype "F8_E9"' inspect "$FIXTURES/unknown-dtype.st"
  expect_fail 1 'shape x dtype is 24 bytes but data_offsets span 16' inspect "$FIXTURES/shape-disagrees.st"
  expect_fail 1 'empty.st: not a valid safetensors file: empty input' inspect "$FIXTURES/empty.st"
  expect_fail 1 'empty input' inspect - < /dev/null
  expect_fail 1 'no-such.st: cannot open' inspect no-such.st
  expect_fail 2 'inspect: error: input is required' inspect
  expect_fail 2 'inspect: error: The following argument was not expected: --frobnicate' inspect --frobnicate x
}

# inspect reads any safetensors file; a tool that loads it as a data set validates it.
test_dataset() {
  expect_fail 1 'label-out-of-range.st: label 3 at row 1 is out of range \[0, 3)' \
    resample --per-class 1 "$FIXTURES/label-out-of-range.st" -o x.st
  [ ! -e x.st ] || fail "partial output after a bad data set"
}

# Size arithmetic that wraps (issue 13): labels I64 [2^61] are 2^64 bytes, 0 in
# 64 bits, on a data section of 0 bytes. Every tool names the file and the field.
test_wrap() {
  python3 - <<'PY'
import json, struct
h = json.dumps({"images": {"dtype": "U8", "shape": [0, 1, 2, 2], "data_offsets": [0, 0]},
                "labels": {"dtype": "I64", "shape": [2**61], "data_offsets": [0, 0]}}).encode()
open("wrap.st", "wb").write(struct.pack("<Q", len(h)) + h)
# A duplicate tensor name: a reader keeping the last one would see one tensor.
h = b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}'
open("dup.st", "wb").write(struct.pack("<Q", len(h)) + h + b"\0")
PY
  wrap='wrap.st: not a valid safetensors file: tensor "labels": shape \[2305843009213693952\] of I64 overflows'
  expect_fail 1 "inspect: error: $wrap" inspect wrap.st
  expect_fail 1 "resample: error: $wrap" resample --per-class 1 wrap.st -o x.st
  expect_fail 1 "augment: error: $wrap" augment --transform rotate wrap.st -o x.st
  expect_fail 1 'dup.st: not a valid safetensors file: header has the key "a" twice in one object' inspect dup.st
  [ ! -e x.st ] || fail "partial output after a wrapping file"
}

# A path that is not UTF-8 (a Latin-1 byte): read, and written into JSON in
# the escaped form (nlohmann alone throws type_error.316 on it).
test_latin1() {
  L=$(printf 'caf\xe9')
  cp "$FIXTURES/python-f32-u8-meta.safetensors" "$L.st"
  inspect --json "$L.st" >latin1.json
  python3 -c 'import json,sys; d=json.load(open("latin1.json")); assert d["file"] == "caf\\xe9.st", d["file"]' ||
    fail "non-UTF-8 path in --json: $(cat latin1.json)"
  inspect "$L.st" >latin1.txt
  head -1 latin1.txt | cmp -s - <(printf 'file: caf\xe9.st\n') || fail "text mode prints the path as it is"
}

test_help() {
  inspect --help | grep 'Examples:' >/dev/null || fail "--help has no examples"
  inspect --version | grep -q '^inspect (invkit) ' || fail "--version"
}

# inspect reads only the header of a file: a (sparse) file of 100 GB of
# pixels is described at once, in constant memory.
test_sparse() {
  python3 - <<'PY'
import json, struct
n = 100000 * 1000 * 1000
head = json.dumps({"images": {"dtype": "U8", "shape": [100000, 1, 1000, 1000], "data_offsets": [0, n]}}).encode()
head += b" " * (-len(head) % 8)
with open("huge.st", "wb") as f:
    f.write(struct.pack("<Q", len(head)) + head)
    f.truncate(8 + len(head) + n)
PY
  [ "$(json huge.st "d['tensors'][0]['shape']")" = "[100000, 1, 1000, 1000]" ] || fail "huge sparse file"
}

run_tests "$@"
