# measure-generator: the JSON's parts and their consistency, the plots, the
# temperature sweep, determinism; errors are clear.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LIB"
mk() { python3 "$HERE/make_classifier_set.py" "$@"; }

setup() {
  mk train.st --counts 40,20,10,5 --seed 1
  mk test.st --counts 12,12,12,12 --seed 3
  train-generator train.st -o gen.st --iters 2 --gen-dim 8 --style-dim 2 --mlp-dim 16 --res-blocks 1 --dis-dim 8 \
    --dis-layers 2 --seed 1 --threads 1 -q
}

FAST=(--per-class 4 --samples 3 --decoder-steps 20 --threads 1 --quiet)

# Every part, and the same bytes again for the same seed.
test_report() {
  train-classifier train.st --arch cnn --epochs 1 --warmup 0 --step1 1 --step2 1 --batch 16 --seed 1 --threads 1 \
    --quiet -o c.st >/dev/null
  measure-generator gen.st test.st --transform 'rotate(-180,180)' --classifier c.st --temperatures 0,1 \
    --plot-dir plots --many 30 --few 8 "${FAST[@]}" >m.json
  measure-generator gen.st test.st --transform 'rotate(-180,180)' --classifier c.st --temperatures 0,1 \
    --many 30 --few 8 "${FAST[@]}" >again.json
  cmp -s m.json again.json || fail "two runs with one seed differ"
  python3 - <<'PY' || fail "report: $(cat m.json)"
import json, math
r = json.load(open("m.json"))
s = r["settings"]
assert s["transform"] == "rotate(-180,180)" and s["per_class"] == 4 and s["samples"] == 3, s
assert s["decoder_images"] == 48 - 16 and s["gen_precision"] == "fp32", s  # the unmeasured rows
assert [d["name"] for d in r["decoder"]] == ["rotate.angle"] and r["decoder"][0]["kind"] == "angle"
assert r["decoder"][0]["pairs"] == 16 * 3 and 0 <= r["decoder"][0]["error"] <= 180
classes = r["classes"]
assert [c["name"] for c in classes] == ["c0", "c1", "c2", "c3"] and [c["n_train"] for c in classes] == [40, 20, 10, 5]
assert all(c["images"] == 4 for c in classes)
g = r["distance"]["generated"]
mean = sum(c["generated"]["rotate.angle"] for c in classes) / 4
assert abs(g["overall"]["rotate.angle"] - mean) < 1e-9, (g, mean)
assert g["groups"]["many"]["rotate.angle"] == classes[0]["generated"]["rotate.angle"]  # 40 > 30
assert g["groups"]["few"]["rotate.angle"] == classes[3]["generated"]["rotate.angle"]   # 5 < 8
assert all(0 <= c["floor"]["rotate.angle"] <= 180 for c in classes)
e = r["ekld_agreement"]
assert len(e["classes"]) == 4 and all(c["ekld_true"] >= 0 and c["ekld_generated"] >= 0 for c in e["classes"])
assert abs(e["mean_ratio"] - sum(c["ekld_generated"] / c["ekld_true"] for c in e["classes"]) / 4) < 1e-9
assert 0 <= r["fidelity"]["accuracy_true"] <= 1 and r["fidelity"]["ratio"] >= 0
assert [t["temperature"] for t in r["temperatures"]] == [0, 1]
assert all(t["diversity"] >= 0 and "fidelity" in t for t in r["temperatures"])
PY
  for f in plots/decoded-rotate.angle.svg plots/temperature.svg; do
    python3 -c "import xml.etree.ElementTree as E; E.parse('$f')" || fail "$f is not XML"
  done
  grep -q 'generated, few' plots/decoded-rotate.angle.svg || fail "histogram lacks the few-shot series"
}

# A choice of two operations: a category column and two optional values.
test_choice() {
  measure-generator gen.st test.st --transform '0.6:dilate(2,4)|0.4:erode(1,2)' "${FAST[@]}" >m.json
  python3 - <<'PY' || fail "choice: $(cat m.json)"
import json
r = json.load(open("m.json"))
assert [(d["name"], d["kind"]) for d in r["decoder"]] == [("choice", "category"), ("dilate.k", "value"), ("erode.k", "value")]
assert "presence_error" in r["decoder"][1] and 0 <= r["distance"]["generated"]["overall"]["choice"] <= 1
assert "ekld_agreement" not in r and "temperatures" not in r
PY
}

# Errors: one line, exit 1 or 2, nothing on stdout.
test_errors() {
  mk small.st --counts 5,5,5,5 --shape 1,10,10 --seed 2
  mk five.st --counts 5,5,5,5,5 --seed 2
  expect_fail 2 'transform' measure-generator gen.st test.st
  expect_fail 2 'leaves none to train the decoder' measure-generator gen.st test.st --transform rotate --per-class 12
  expect_fail 1 'the generator takes 1x12x12 images, small.st has 1x10x10' \
    measure-generator gen.st small.st --transform rotate
  expect_fail 1 'five.st: class "c4" is not one of the classes of gen.st' measure-generator gen.st five.st --transform rotate
  expect_fail 1 "small.st: its images are not of test.st's size" \
    measure-generator gen.st test.st --transform rotate --decoder-data small.st
  expect_fail 1 'not-there.st' measure-generator not-there.st test.st --transform rotate
  expect_fail 2 'nosuch' measure-generator gen.st test.st --transform 'nosuch(1)'
  expect_fail 2 'temperatures' measure-generator gen.st test.st --transform rotate --temperatures=-1
}

run_tests "$@"
