# train-classifier on tiny separable sets: training, report, log, checkpoint
# manifest, resume, SIGINT, and each input error.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LIB"
mk() { python3 "$HERE/make_classifier_set.py" "$@"; }

# same_tensors A B: every tensor of A equals B's, byte for byte.
same_tensors() {
  python3 - "$1" "$2" <<'PY'
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
a, b = invkit_set.raw_tensors(sys.argv[1]), invkit_set.raw_tensors(sys.argv[2])
assert a.keys() == b.keys(), (a.keys() ^ b.keys())
bad = [k for k in a if a[k] != b[k]]
assert not bad, bad
PY
}

quick=(--arch cnn --epochs 4 --warmup 1 --step1 3 --step2 4 --batch 16 --lr 0.05 --seed 1 --threads 1 --quiet)
TINY=(--gen-dim 8 --style-dim 2 --mlp-dim 16 --res-blocks 1 --dis-dim 8 --dis-layers 2 --threads 1 -q)

setup() {
  mk train.st --counts 40,40,40,40 --seed 1
  mk val.st --counts 8,8,8,8 --seed 2
  mk test.st --counts 16,16,16,16 --seed 3
}

# Training: the report on stdout, the log, the checkpoint and its manifest.
test_train() {
  train-classifier train.st --val val.st --test test.st "${quick[@]}" -o c.st --log log.jsonl >out.json
  [ -s c.st ] && [ -s c.st.last ] || fail "checkpoints missing"
  [ ! -e c.st.tmp ] || fail "temporary file left behind"
  python3 - <<'PY' || fail "report: $(cat out.json)"
import json
r = json.load(open("out.json"))
t = r["test"]
assert t["accuracy"] >= 0.9, t
assert t["total"] == 64 and len(t["per_class"]) == 4, t
assert t["groups"]["medium"] is not None and t["groups"]["few"] is None, t["groups"]
assert r["checkpoint"] == "c.st" and 1 <= r["best_epoch"] <= 4, r
log = [json.loads(l) for l in open("log.jsonl")]
assert [l["epoch"] for l in log] == [1, 2, 3, 4], log
assert [round(l["lr"], 12) for l in log] == [0.05, 0.05, 0.05, 0.0005], log
for k in ("loss", "train_acc", "val_acc", "val_bacc", "seconds"):
    assert k in log[0], k
PY
  [ "$(json c.st 'd["manifest"]["format"]')" = "invkit.classifier/1" ] || fail "format"
  [ "$(json c.st 'd["manifest"]["arch"], d["manifest"]["channels"], d["manifest"]["height"]')" = "cnn 1 12" ] || fail "arch"
  [ "$(json c.st 'len(d["manifest"]["normalization"]["mean"])')" = 1 ] || fail "normalization"
  [ "$(json c.st 'd["manifest"]["class_counts"]')" = "[40, 40, 40, 40]" ] || fail "class counts"
  [ "$(json c.st 'd["manifest"]["metrics"]["test"]["accuracy"] == '"$(python3 -c 'import json; print(json.load(open("out.json"))["test"]["accuracy"])')"'')" = True ] \
    || fail "test metrics not stored in the manifest"
  [ "$(json c.st.last 'd["manifest"]["epoch"]')" = 4 ] || fail "last epoch"
  [ "$(json c.st.last '"optimizer.conv1.weight.momentum_buffer" in [t["name"] for t in d["tensors"]]')" = True ] || fail "optimizer state"
  [ "$(json c.st '"bn1.num_batches_tracked" in [t["name"] for t in d["tensors"]]')" = True ] || fail "buffers"
}

# Resume: 2 epochs + 2 more equals 4 epochs, tensor for tensor.
test_resume() {
  aug=(--rule drs --flip --augment 'rotate(-20,20)')
  train-classifier train.st "${quick[@]}" "${aug[@]}" -o full.st >/dev/null
  train-classifier train.st "${quick[@]}" "${aug[@]}" -o part.st --epochs 2 >/dev/null
  train-classifier train.st "${quick[@]}" "${aug[@]}" -o part.st --resume part.st.last >/dev/null
  same_tensors full.st.last part.st.last || fail "resumed run differs from the uninterrupted one"
  expect_fail 2 "already finished 4 epochs" train-classifier train.st "${quick[@]}" "${aug[@]}" -o part.st --resume part.st.last
  [ "$(json full.st.last 'd["manifest"]["training"]["augment"]')" = "rotate(-20,20)" ] || fail "augment not recorded"
}

# SIGINT: checkpoint, message, exit 1; the checkpoint resumes.
test_sigint() {
  interrupt INT sig.jsonl train-classifier train.st "${quick[@]}" --epochs 1000 -o sig.st --log sig.jsonl
  [ "$rc" -eq 1 ] || fail "SIGINT: exit $rc"
  grep -q "train-classifier: error: interrupted by SIGINT at epoch .* saved sig.st.last" sig.err || fail "SIGINT message: $(cat sig.err)"
  [ -s sig.st.last ] || fail "no checkpoint after SIGINT"
  epochs=$(json sig.st.last 'd["manifest"]["epoch"]')
  train-classifier train.st "${quick[@]}" -o sig.st --epochs $((epochs + 1)) --resume sig.st.last >/dev/null
  # Wherever the signal landed (mid-epoch too), the resumed run equals an uninterrupted one.
  train-classifier train.st "${quick[@]}" -o ref.st --epochs $((epochs + 1)) >/dev/null
  same_tensors ref.st.last sig.st.last || fail "resumed after SIGINT differs (stopped at epoch $epochs step $(json sig.st.last 'd["manifest"]["step_in_epoch"]'))"
}

# Errors, each with one line on stderr and no output file.
test_errors() {
  mk empty.st --counts 10,0,10,10
  expect_fail 1 "empty.st: class 1 (\"c1\") has no training examples (pass --allow-empty-classes" \
    train-classifier empty.st "${quick[@]}" -o e.st
  [ ! -e e.st ] || fail "output left after an error"
  train-classifier empty.st "${quick[@]}" --epochs 1 --allow-empty-classes -o e.st >/dev/null
  mk val5.st --counts 2,2,2,2,2 --seed 4
  expect_fail 1 'val5.st: class "c4" is not one of the classes of train.st (c0, c1, c2, c3)' \
    train-classifier train.st --val val5.st "${quick[@]}" -o x.st
  mk big.st --counts 2,2,2,2 --shape 1,16,16
  expect_fail 1 "big.st: images are 1x16x16 but train.st has 1x12x12" train-classifier train.st --test big.st "${quick[@]}" -o x.st
  mk rgb.st --counts 2,2,2,2 --shape 3,12,12
  expect_fail 1 "rgb.st: images are 3x12x12 but train.st has 1x12x12" train-classifier train.st --val rgb.st "${quick[@]}" -o x.st
  expect_fail 1 "loss is \(nan\|inf\) at epoch 1 step .*no checkpoint was written" train-classifier train.st "${quick[@]}" --warmup 0 --lr 1e30 -o x.st
  [ ! -e x.st ] || fail "a checkpoint was written after a bad loss"
  expect_fail 2 "unknown architecture 'resnet19'" train-classifier train.st "${quick[@]}" --arch resnet19 -o x.st
  expect_fail 2 "expected ce, ldam or focal" train-classifier train.st "${quick[@]}" --loss hinge -o x.st
  expect_fail 2 "--keep: first not in {best,last}" train-classifier train.st "${quick[@]}" --keep first -o x.st
  expect_fail 2 "expected erm, resample, reweight, drw or drs" train-classifier train.st "${quick[@]}" --rule smote -o x.st
  expect_fail 2 "rotat" train-classifier train.st "${quick[@]}" --augment 'rotate(1,2,3,4)' -o x.st
  expect_fail 2 "output is required\|--output is required" train-classifier train.st "${quick[@]}"
  [ ! -e x.st ] || fail "output left after an error"
}

# GIT: a tiny generator of the training set's size; generated rows from --step1 on.
test_git() {
  train-generator train.st -o gen.st --iters 2 "${TINY[@]}"
  train-classifier train.st "${quick[@]}" --rule drs --generator gen.st --gen-delayed --log git.jsonl -o git.st >/dev/null
  python3 - <<'PY' || fail "GIT log: $(cat git.jsonl)"
import json
g = [json.loads(l)["generated"] for l in open("git.jsonl")]
assert g == [0, 0, 0, 0.5], g      # --step1 3: GIT in epoch 4 only; half of each batch of 16
PY
  [ "$(json git.st "d['manifest']['training']['generator']")" = gen.st ] || fail "the checkpoint does not name its generator"
  [ "$(json git.st "d['manifest']['training']['gen_precision']")" = fp32 ] || fail "training.gen_precision is not fp32"
  train-classifier train.st "${quick[@]}" --rule drs --generator gen.st --gen-delayed --gen-precision bf16 -o bf.st >/dev/null
  [ "$(json bf.st "d['manifest']['training']['gen_precision']")" = bf16 ] || fail "training.gen_precision is not bf16"
  expect_fail 2 "need --generator" train-classifier train.st "${quick[@]}" --gen-frac 0.3 -o x.st
  expect_fail 2 "gen-threshold 40 must exceed the smallest class size (40)" \
    train-classifier train.st "${quick[@]}" --generator gen.st --gen-threshold 40 -o x.st
  expect_fail 1 "train.st: not a generator" train-classifier train.st "${quick[@]}" --generator train.st -o x.st
  mk big.st --counts 2,2,2,2 --shape 1,16,16
  train-generator big.st -o big-gen.st --iters 1 "${TINY[@]}"
  expect_fail 1 "big-gen.st: the generator takes 1x16x16 images but train.st has 1x12x12" \
    train-classifier train.st "${quick[@]}" --generator big-gen.st -o x.st
  [ ! -e x.st ] || fail "output left after a GIT error"
}

# 0 rows (issue 13): a training, validation or test set without rows is refused,
# naming it (an empty --val scored every epoch 0 and picked one as the best).
test_empty() {
  resample --per-class 0 val.st -o empty-rows.st
  expect_fail 1 "train-classifier: error: empty-rows.st: the data set is empty (0 rows); there is nothing to train on" \
    train-classifier empty-rows.st "${quick[@]}" -o x.st
  expect_fail 1 "train-classifier: error: empty-rows.st: the data set is empty (0 rows); a validation set needs rows to pick the best epoch by" \
    train-classifier train.st --val empty-rows.st "${quick[@]}" -o x.st
  expect_fail 1 "train-classifier: error: empty-rows.st: the data set is empty (0 rows); a test set needs rows to measure accuracy on" \
    train-classifier train.st --test empty-rows.st "${quick[@]}" -o x.st
  [ ! -e x.st ] || fail "output left after an empty set"
}

# Paths that are not UTF-8 (issue 13): training works, the checkpoint's manifest
# and the report on stdout hold them escaped (nlohmann alone throws type_error.316).
test_latin1() {
  L=$(printf 'caf\xe9')
  cp train.st "$L-train.st"
  train-classifier "$L-train.st" --test test.st "${quick[@]}" --epochs 1 --step1 1 --step2 1 -o "$L.st" >latin1.json
  python3 - <<'PY' || fail "non-UTF-8 paths in train-classifier's outputs: $(head -c 300 latin1.json)"
import json
assert json.load(open("latin1.json"))["checkpoint"] == "caf\\xe9.st"
PY
  [ "$(json "$L.st" 'd["manifest"]["training"]["train"], d["manifest"]["history"][-1]["escaped_arguments"]')" = \
    "caf\\xe9-train.st [0, 29]" ] || fail "non-UTF-8 paths in the checkpoint manifest"
}

test_help() {
  train-classifier --help | grep "Examples:" >/dev/null || fail "--help"
}

run_tests "$@"
