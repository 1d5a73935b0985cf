# measure-ekld: per-class eKLD of checkpoints under a transform; the report,
# CSV, SVG and dumped logits agree; errors are clear.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LIB"
mk() { python3 "$HERE/make_classifier_set.py" "$@"; }

setup() {
  mk train.st --counts 120,40,10,40 --seed 1
  mk test.st --counts 16,16,16,16 --seed 3
}

# classifier S: cS.st, a small CNN trained on train.st with seed S.
classifier() {
  train-classifier train.st --arch cnn --epochs 2 --warmup 1 --step1 1 --step2 2 --batch 16 --lr 0.05 \
    --seed "$1" --threads 1 --quiet -o c$1.st >/dev/null
}

# The identity transform: eKLD 0, consistency 1.
test_identity() {
  classifier 1
  measure-ekld c1.st test.st --transform identity --samples 3 --quiet >id.json
  python3 - <<'PY' || fail "identity: $(cat id.json)"
import json
r = json.load(open("id.json"))["checkpoints"][0]
assert len(r["classes"]) == 4
for c in r["classes"]:
    assert c["ekld"] <= 1e-7 and c["consistency"] == 1.0 and c["images"] == 16, c
PY
}

# Two checkpoints under rotation, with every side output.
test_rotation() {
  for s in 1 2; do classifier $s; done
  measure-ekld c1.st c2.st test.st --transform 'rotate(-180,180)' --per-class 5 --samples 4 --seed 9 --quiet \
    --csv e.csv --plot e.svg --dump-logits logits.st >rot.json
  measure-ekld c1.st c2.st test.st --transform 'rotate(-180,180)' --per-class 5 --samples 4 --seed 9 --quiet \
    --batch 3 >rot2.json
  python3 - <<'PY' || fail "the report depends on --batch"
import json
a, b = json.load(open("rot.json")), json.load(open("rot2.json"))
for x, y in zip(a["checkpoints"], b["checkpoints"]):
    for c, d in zip(x["classes"], y["classes"]):
        assert c["consistency"] == d["consistency"] and abs(c["ekld"] - d["ekld"]) < 1e-6 * max(1, c["ekld"]), (c, d)
PY
  python3 - <<'PY' || fail "rotation report"
import csv, json, math
import xml.etree.ElementTree as ET
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
r = json.load(open("rot.json"))
assert r["settings"]["transform"] and r["settings"]["samples"] == 4
assert [c["checkpoint"] for c in r["checkpoints"]] == ["c1.st", "c2.st"]
for ck in r["checkpoints"]:
    assert [c["n_train"] for c in ck["classes"]] == [120, 40, 10, 40]
    assert all(c["images"] == 5 and c["ekld"] >= 0 for c in ck["classes"])
    s = ck["summary"]
    assert abs(s["mean_ekld"] - sum(c["ekld"] for c in ck["classes"]) / 4) < 1e-12
    assert s["ekld_by_group"]["few"] == ck["classes"][2]["ekld"]  # 10 < 20
# CSV: a header and a row per class and checkpoint.
rows = list(csv.DictReader(open("e.csv")))
assert len(rows) == 8 and rows[4]["checkpoint"] == "c2.st" and rows[4]["id"] == "0"
assert abs(float(rows[1]["ekld"]) - r["checkpoints"][0]["classes"][1]["ekld"]) < 1e-9
# SVG: well-formed, a point per class and checkpoint (+ 2 legend marks).
svg = ET.parse("e.svg").getroot()
circles = [e for e in svg.iter() if e.tag.endswith("circle")]
assert len(circles) == 8 + 2, len(circles)
# Dumped logits recompute the reported eKLD.
def tensor(name):
    shape, values = invkit_set.tensor("logits.st", name)
    return list(values), shape
labels, _ = tensor("labels")
def log_softmax(v):
    m = max(v); z = math.log(sum(math.exp(x - m) for x in v)) + m
    return [x - z for x in v]
for k in range(2):
    orig, (m, c) = tensor("original.%d" % k)
    trans, (_, s, _) = tensor("transformed.%d" % k)
    per_class = {}
    for i in range(m):
        p = log_softmax(orig[i * c:(i + 1) * c])
        kl = 0.0
        for j in range(s):
            q = log_softmax(trans[(i * s + j) * c:(i * s + j + 1) * c])
            kl += sum(math.exp(a) * (a - b) for a, b in zip(p, q))
        per_class.setdefault(labels[i], []).append(kl / s)
    for cls, v in per_class.items():
        want = sum(v) / len(v)
        got = r["checkpoints"][k]["classes"][cls]["ekld"]
        assert abs(want - got) < 1e-5 * max(1.0, want), (k, cls, want, got)
PY
}

# A learned transformation: a (tiny) generator trained on the training set.
test_generator() {
  classifier 1
  train-generator train.st -o gen.st --iters 2 --gen-dim 8 --style-dim 2 --mlp-dim 16 --res-blocks 1 --dis-dim 8 \
    --dis-layers 2 --seed 1 --threads 1 -q
  measure-ekld c1.st test.st --generator gen.st --per-class 3 --samples 2 --quiet >gen.json
  python3 - <<'PY' || fail "--generator report: $(cat gen.json)"
import json
r = json.load(open("gen.json"))
assert r["settings"]["generator"] == "gen.st" and "transform" not in r["settings"]
assert [c["images"] for c in r["checkpoints"][0]["classes"]] == [3, 3, 3, 3]
assert all(c["ekld"] >= 0 for c in r["checkpoints"][0]["classes"])
assert r["settings"]["gen_precision"] == "fp32", r["settings"]
PY
  measure-ekld c1.st test.st --generator gen.st --gen-precision bf16 --per-class 3 --samples 2 --quiet >bf16.json
  [ "$(python3 -c 'import json; print(json.load(open("bf16.json"))["settings"]["gen_precision"])')" = bf16 ] ||
    fail "settings.gen_precision does not record bf16"
}

# Errors: one line, exit 1 or 2, and no side output left behind.
test_errors() {
  classifier 1
  mk small.st --counts 5,5,5,5 --shape 1,10,10 --seed 2
  mk five.st --counts 5,5,5,5,5 --seed 2
  expect_fail 1 'five.st: class "c4" is not one of the classes of c1.st (c0, c1, c2, c3)' \
    measure-ekld c1.st five.st --transform identity --csv x.csv
  [ ! -e x.csv ] || fail "side output left after an error"
  expect_fail 1 'small.st: images are 1x10x10 but c1.st expects 1x12x12' measure-ekld c1.st small.st --transform identity
  expect_fail 2 'give the transformation' measure-ekld c1.st test.st
  expect_fail 2 'excludes' measure-ekld c1.st test.st --transform identity --generator g.st
  expect_fail 2 'nosuch' measure-ekld c1.st test.st --transform 'nosuch(1)'
  expect_fail 1 'not-there.st' measure-ekld not-there.st test.st --transform identity
  [ ! -e x.csv ] || fail "a failed run left x.csv"
}

# Classes are matched by name: the test set with its classes in another order
# gives the same rows, names and training sizes; a set of 3 of the 4 classes
# gives those 3 and leaves the fourth without images.
test_by-name() {
  classifier 1
  mk test-shuffled.st --counts 16,16,16,16 --seed 3 --keep 3,1,0,2
  mk three.st --counts 16,16,16,16 --seed 3 --keep 2,0,1
  for t in test test-shuffled three; do
    measure-ekld c1.st $t.st --transform 'rotate(90,90)' --per-class 16 --samples 1 --quiet >$t-90.json
  done
  python3 - <<'PY' || fail "measure-ekld matches classes by name"
import json
a, b, c = (json.load(open(f + "-90.json"))["checkpoints"][0]["classes"] for f in ("test", "test-shuffled", "three"))
assert [(x["name"], x["n_train"]) for x in a] == [("c0", 120), ("c1", 40), ("c2", 10), ("c3", 40)], a
assert a == b, (a, b)
assert c[:3] == a[:3] and c[3]["images"] == 0 and c[3]["ekld"] is None, c
PY
}

# An LDAM checkpoint outputs cosines; measure-ekld uses 30 x cos, the logits
# LDAM trains (unscaled, no logit could exceed 1).
test_ldam() {
  train-classifier train.st --arch cnn --loss ldam --epochs 2 --warmup 1 --step1 1 --step2 2 --batch 16 --lr 0.05 \
    --seed 1 --threads 1 --quiet -o ldam.st >/dev/null
  measure-ekld ldam.st test.st --transform 'rotate(-180,180)' --per-class 2 --samples 2 --quiet \
    --dump-logits ldam-logits.st >ldam.json
  python3 - <<'PY' || fail "LDAM logits are not scaled by 30"
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
assert invkit_set.header("ldam-logits.st")["original.0"]["dtype"] == "F32"
v = invkit_set.tensor("ldam-logits.st", "original.0")[1]
assert 1.0 < max(abs(x) for x in v) <= 30.0 + 1e-4, max(abs(x) for x in v)
PY
}

# 0 rows (issue 13): refused, naming the file (it was LibTorch's
# "torch.cat(): expected a non-empty list of Tensors").
test_empty() {
  classifier 1
  resample --per-class 0 test.st -o empty.st
  expect_fail 1 "measure-ekld: error: empty.st: the data set is empty (0 rows); there are no images to measure invariance on" \
    measure-ekld c1.st empty.st --transform identity --quiet
}

# A checkpoint path that is not UTF-8: the report, the CSV and the SVG plot are written (escaped in JSON and SVG).
test_latin1() {
  classifier 1
  L=$(printf 'caf\xe9')
  cp c1.st "$L.st"
  measure-ekld "$L.st" test.st --transform identity --samples 2 --per-class 2 --quiet --plot latin1.svg --csv latin1.csv \
    >latin1.json
  python3 - <<'PY' || fail "non-UTF-8 checkpoint path in the report or plot"
import json
r = json.load(open("latin1.json"))
assert r["checkpoints"][0]["checkpoint"] == "caf\\xe9.st", r["checkpoints"][0]["checkpoint"]
svg = open("latin1.svg", "rb").read().decode("utf-8")  # valid UTF-8, or this raises
assert "caf\\xe9.st" in svg
csv = open("latin1.csv", "rb").read().decode("utf-8")
assert csv.splitlines()[1].startswith("caf\\xe9.st,0,"), csv
PY
}

run_tests "$@"
