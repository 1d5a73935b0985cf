# evaluate: metrics of a checkpoint on a set, CSV, and each input error.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LIB"
mk() { python3 "$HERE/make_classifier_set.py" "$@"; }

# c.st: a small CNN trained on train.st (class sizes 120, 40, 10, 40), with
# its test metrics on test.st in train.json.
setup() {
  mk train.st --counts 120,40,10,40 --seed 1
  mk test.st --counts 16,16,16,16 --seed 3
  train-classifier train.st --test test.st --arch cnn --epochs 4 --warmup 1 --step1 3 --step2 4 --batch 16 --lr 0.05 \
    --seed 1 --threads 1 --quiet -o c.st >train.json
}

# eval_test: evaluate's report of c.st on test.st, as eval.json (and per-class.csv).
eval_test() { evaluate c.st test.st --csv per-class.csv --threads 1 >eval.json; }

# The report agrees with train-classifier's test metrics and with itself; the CSV.
test_report() {
  eval_test
  python3 - <<'PY' || fail "evaluate report: $(cat eval.json)"
import json
e = json.load(open("eval.json"))
t = json.load(open("train.json"))["test"]
assert e["accuracy"] == t["accuracy"] and e["balanced_accuracy"] == t["balanced_accuracy"], (e, t)
cm = e["confusion"]
assert len(cm) == 4 and sum(map(sum, cm)) == 64 and all(sum(r) == 16 for r in cm), cm
assert e["correct"] == sum(cm[i][i] for i in range(4))
pc = [c["accuracy"] for c in e["per_class"]]
assert all(abs(pc[i] - cm[i][i] / 16) < 1e-12 for i in range(4)), pc
assert abs(e["balanced_accuracy"] - sum(pc) / 4) < 1e-12
# training sizes 120, 40, 10, 40: many, medium, few, medium
g = e["groups"]
assert g["many"] == pc[0] and g["few"] == pc[2] and abs(g["medium"] - (pc[1] + pc[3]) / 2) < 1e-12, g
rows = open("per-class.csv").read().splitlines()
assert rows[0] == "class,name,train_count,support,accuracy" and rows[3].startswith("2,c2,10,16,"), rows
PY
  # With --many 30 --few 5: classes 0, 1, 3 are many-shot, class 2 medium, none few.
  evaluate c.st test.st --many 30 --few 5 | python3 -c '
import json, sys; e = json.load(sys.stdin); g = e["groups"]; pc = [c["accuracy"] for c in e["per_class"]]
assert g["few"] is None and g["medium"] == pc[2] and abs(g["many"] - (pc[0] + pc[1] + pc[3]) / 3) < 1e-12, g
assert g["many_threshold"] == 30 and g["few_threshold"] == 5, g' || fail "thresholds"
}

# Under a transform: quarter turns move the quadrants, so accuracy drops; seeded.
test_transform() {
  eval_test
  evaluate c.st test.st --transform 'rotate(90,90)' --seed 4 >rot1.json
  evaluate c.st test.st --transform 'rotate(90,90)' --seed 4 --batch 7 >rot2.json
  python3 - <<'PY' || fail "--transform: $(cat rot1.json)"
import json
a, b, e = json.load(open("rot1.json")), json.load(open("rot2.json")), json.load(open("eval.json"))
assert a["transform"] and a["accuracy"] == b["accuracy"] and a["confusion"] == b["confusion"], (a, b)
assert a["accuracy"] < e["accuracy"] - 0.3, (a["accuracy"], e["accuracy"])
PY
  expect_fail 2 "" evaluate c.st test.st --transform 'nosuchop(1)'
}

# The pixels stream a chunk at a time (8,100 rows at --batch 100 here): a set
# of two chunks gives the report of one chunk, from a file and from a pipe,
# under a transform too (row i draws from (seed, i) in any chunk).
test_chunks() {
  mk many.st --counts 2500,2500,2500,2500 --seed 5
  evaluate c.st many.st --transform rotate --seed 2 --batch 100 --threads 1 >two.json
  evaluate c.st many.st --transform rotate --seed 2 --batch 10000 --threads 1 >one.json
  evaluate c.st - --transform rotate --seed 2 --batch 100 --threads 1 <many.st >piped.json
  python3 - <<'PY' || fail "chunks: $(cat two.json)"
import json
two, one, piped = (json.load(open(f)) for f in ("two.json", "one.json", "piped.json"))
assert sum(map(sum, two["confusion"])) == 10000
assert two["confusion"] == one["confusion"] == piped["confusion"], (two["confusion"], one["confusion"])
PY
}

# Input errors, each one line.
test_errors() {
  expect_fail 1 "not a classifier checkpoint" evaluate test.st test.st
  mk val5.st --counts 2,2,2,2,2 --seed 4
  expect_fail 1 'val5.st: class "c4" is not one of the classes of c.st (c0, c1, c2, c3)' evaluate c.st val5.st
  mk big.st --counts 2,2,2,2 --shape 3,12,12
  expect_fail 1 "big.st: images are 3x12x12 but c.st expects 1x12x12" evaluate c.st big.st
  expect_fail 1 "nothing.st" evaluate c.st nothing.st
}

# Classes are matched by name: the same test images with the classes in
# another order score the same, class by class; a split lacking classes
# scores the classes it has.
test_by-name() {
  eval_test
  mk test-shuffled.st --counts 16,16,16,16 --seed 3 --keep 2,0,3,1
  mk test-a-c.st --counts 16,16,16,16 --seed 3 --keep 2,0
  evaluate c.st test-shuffled.st >shuffled.json
  evaluate c.st test-a-c.st >a-c.json
  python3 - <<'PY' || fail "classes matched by name: $(cat shuffled.json a-c.json)"
import json
e, s, p = (json.load(open(f)) for f in ("eval.json", "shuffled.json", "a-c.json"))
assert s["accuracy"] == e["accuracy"] and s["confusion"] == e["confusion"], (e, s)
assert [c["name"] for c in s["per_class"]] == ["c0", "c1", "c2", "c3"]
assert s["per_class"] == e["per_class"], (e["per_class"], s["per_class"])
by = {c["name"]: c for c in p["per_class"]}
assert by["c0"]["support"] == 16 and by["c2"]["support"] == 16 and by["c1"]["support"] == 0 and by["c3"]["support"] == 0
assert by["c0"]["accuracy"] == e["per_class"][0]["accuracy"] and by["c2"]["accuracy"] == e["per_class"][2]["accuracy"]
assert p["per_class"][1]["accuracy"] is None and p["total"] == 32
PY
  # The same as image folders test/{c0,c2} sorted by folder name (no classes.txt).
  convert export test-a-c.st --to-dir a-c
  rm a-c/classes.txt
  convert folder a-c -o a-c-folder.st
  evaluate c.st a-c-folder.st >a-c-folder.json
  python3 -c 'import json, sys; a, b = (json.load(open(f))["per_class"] for f in sys.argv[1:]); assert a == b, (a, b)' \
    a-c.json a-c-folder.json || fail "image folder classes matched by name"
}

# 0 rows (issue 13): no accuracy to report; refused, naming the file (it was
# LibTorch's "argmax(): Expected reduction dim 1 to have non-zero size").
test_empty() {
  resample --per-class 0 test.st -o empty.st
  expect_fail 1 "evaluate: error: empty.st: the data set is empty (0 rows); there is nothing to evaluate" evaluate c.st empty.st
  expect_fail 1 "evaluate: error: empty.st: the data set is empty (0 rows)" evaluate c.st empty.st --transform rotate
}

# Paths that are not UTF-8 reach the JSON report in the escaped form.
test_latin1() {
  L=$(printf 'caf\xe9')
  cp c.st "$L.st"
  evaluate "$L.st" test.st >latin1.json
  python3 -c 'import json; e = json.load(open("latin1.json")); assert e["checkpoint"] == "caf\\xe9.st", e["checkpoint"]' ||
    fail "non-UTF-8 checkpoint path: $(head -c 300 latin1.json)"
}

run_tests "$@"
