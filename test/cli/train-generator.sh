# train-generator: tiny model, a few iterations; checkpoint contents, log,
# sample grids, resume = uninterrupted run, SIGTERM saves, errors.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LIB"
TINY=(--gen-dim 8 --style-dim 2 --mlp-dim 16 --res-blocks 1 --dis-dim 8 --dis-layers 2 --batch 2 --seed 3 --threads 1)
setup() { python3 "$HERE/make_generator_set.py" set.st 16 12; }

# train6: gen.st, 6 iterations on set.st, with a log and sample grids every 3.
train6() {
  train-generator set.st -o gen.st --iters 6 "${TINY[@]}" --log log.jsonl --sample-every 3 --samples-dir samples -q
}

# The checkpoint's manifest and tensors, the log, the sample grids.
test_train() {
  train6
  [ "$(json gen.st "d['manifest']['format']")" = invkit.generator/1 ] || fail "format"
  [ "$(json gen.st "d['manifest']['iteration']")" = 6 ] || fail "iteration"
  [ "$(json gen.st "d['manifest']['model']['dim']")" = 8 ] || fail "model options"
  [ "$(json gen.st "d['manifest']['data']['class_counts']")" = "[8, 8]" ] || fail "data counts"
  [ "$(json gen.st "d['manifest']['history'][-1]['tool']")" = train-generator ] || fail "history"
  [ "$(json gen.st "sorted(t['name'] for t in d['tensors'] if t['name'] in ('gen.dec.model.5.conv.weight', 'dis.cnns.0.2.weight', 'optimizer.gen.mlp.model.2.fc.bias.exp_avg_sq'))")" \
    = "['dis.cnns.0.2.weight', 'gen.dec.model.5.conv.weight', 'optimizer.gen.mlp.model.2.fc.bias.exp_avg_sq']" ] || fail "tensor names"
  [ "$(wc -l < log.jsonl)" -eq 6 ] || fail "log lines"
  python3 - <<'PY' || fail "log records"
import json
recs = [json.loads(l) for l in open("log.jsonl")]
assert [r["iteration"] for r in recs] == [1, 2, 3, 4, 5, 6], recs
for r in recs:
    assert set(r) >= {"dis", "gan", "recon_x", "recon_s", "recon_c", "total", "lr"}, r
    assert abs(r["total"] - (r["gan"] + 10 * r["recon_x"] + r["recon_s"] + r["recon_c"])) < 1e-4 * max(1, r["total"]), r
PY
  # Sample grids: 8 input rows x (input, reconstruction, 6 styles) of 12 px, 2 px padding.
  for f in samples/iter_00000003.png samples/iter_00000006.png; do
    [ -f "$f" ] || fail "missing $f"
    python3 -c "
import struct,sys
b=open('$f','rb').read(32)
assert b[:8]==b'\x89PNG\r\n\x1a\n'
w,h=struct.unpack('>II',b[16:24]); assert (w,h)==(2+8*14,2+8*14),(w,h)" || fail "grid size of $f"
  done
}

# Resume: 3 iterations + 3 resumed = 6 uninterrupted, tensor for tensor.
test_resume() {
  train6
  train-generator set.st -o half.st --iters 3 "${TINY[@]}" -q
  train-generator set.st -o resumed.st --resume half.st --iters 6 --threads 1 -q
  [ "$(json resumed.st "d['manifest']['iteration']")" = 6 ] || fail "resumed iteration"
  python3 - <<'PY' || fail "resumed run differs from the uninterrupted one"
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
a, b = invkit_set.raw_tensors("gen.st"), invkit_set.raw_tensors("resumed.st")
assert a.keys() == b.keys()
diff = [k for k in a if a[k] != b[k]]
assert not diff, diff[:5]
PY
  [ "$(json resumed.st "len(d['manifest']['history'])")" = 2 ] || fail "resume history"
  expect_fail 2 'train-generator: error: --gen-dim cannot be changed when resuming: it comes from half.st' \
    train-generator set.st -o x.st --resume half.st --gen-dim 4
  expect_fail 2 'already at iteration 6' train-generator set.st -o x.st --resume resumed.st
}

# SIGTERM: the checkpoint is saved at the next iteration boundary, exit 1.
test_sigterm() {
  interrupt TERM sig.jsonl train-generator set.st -o sig.st --iters 1000000 "${TINY[@]}" --log sig.jsonl -q
  [ "$rc" -eq 1 ] || fail "SIGTERM exit $rc: $(cat sig.err)"
  grep -q 'train-generator: error: interrupted by SIGTERM at iteration [0-9]*; saved sig.st (continue with --resume sig.st)' sig.err || fail "signal message: $(cat sig.err)"
  [ "$(json sig.st "d['manifest']['iteration'] >= 1")" = True ] || fail "signal checkpoint"
  [ ! -e sig.st.tmp ] || fail "temporary file left"
}

test_errors() {
  expect_fail 2 'the checkpoint is rewritten while training' train-generator set.st -o -
  expect_fail 2 '--sample-every needs --samples-dir' train-generator set.st -o x.st --sample-every 2
  expect_fail 1 'no-such.st: cannot open' train-generator no-such.st -o x.st
  expect_fail 1 'set.st: not a generator (expected manifest format' train-generator set.st -o x.st --resume set.st
  python3 "$HERE/make_generator_set.py" small.st 4 4
  expect_fail 2 '2 downsamplings shrink 4x4 to 1x1' train-generator small.st -o x.st
  [ ! -e x.st ] || fail "a failed run left x.st"
}

# --layers: shapes for the set's size (12 -> 6 -> 3 and back).
test_layers() {
  train-generator set.st --layers > layers.txt
  grep -Eq '^enc_content.model.3.model.3 +\[1, 256, 3, 3\]$' layers.txt || fail "layers: $(cat layers.txt)"
  grep -Eq '^dec.model.5 +\[1, 1, 12, 12\]$' layers.txt || fail "layers: decoder output"
}

# 0 rows (issue 13): refused, naming the file.
test_empty() {
  resample --per-class 0 set.st -o empty.st
  expect_fail 1 "train-generator: error: empty.st: the data set is empty (0 rows); there is nothing to train a generator on" \
    train-generator empty.st -o e.st --iters 2 "${TINY[@]}" -q
  [ ! -e e.st ] || fail "output left after an empty set"
}

test_help() {
  train-generator --help | grep 'Examples:' >/dev/null || fail "--help"
}

run_tests "$@"
