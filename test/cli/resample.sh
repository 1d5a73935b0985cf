# Tool test for resample: profiles, class order, splits, balance, per-class,
# shards and concat, errors, pipes, and the issue's Fashion-MNIST chain.
source "$LIB"
MAKE="python3 $(dirname "$LIB")/make_dataset.py"

# m FILE PYEXPR: like json, but reads the manifest `m` straight from the
# header (no tool start-up; inspect's own output is checked in the pipe tests).
m() {
  python3 - "$1" "$2" <<'PY'
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
m = invkit_set.manifest(sys.argv[1])
v = eval(sys.argv[2])
print(*v) if isinstance(v, tuple) else print(v)  # like json: a, b prints "a b"
PY
}

# tensor FILE NAME: a tensor of a safetensors file as a JSON list (labels/index as ints).
tensor() {
  python3 - "$1" "$2" <<'PY'
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
import json
print(json.dumps(list(invkit_set.tensor(sys.argv[1], sys.argv[2])[1])))
PY
}

# in.st: 10 classes of 50 images of 8x8.
setup() { $MAKE in.st --classes 10 --per-class 50 --size 8; }

# split_train: train.st, 40 per class of in.st (val.st holds the other 10).
split_train() { resample --split val=0.2 --seed 0 in.st -o train.st --rest val.st; }

test_help() {
  [ "$(m in.st 'm["class_counts"]')" = "[50, 50, 50, 50, 50, 50, 50, 50, 50, 50]" ] || fail "make_dataset"
  resample --help | grep -- "--profile" >/dev/null || fail "--help"
}

# --split: stratified, round(0.2 * 50) = 10 per class to --rest, disjoint and complete.
test_split() {
  split_train
  [ "$(m val.st 'm["class_counts"]')" = "$(python3 -c 'print([10]*10)')" ] || fail "split val counts"
  [ "$(m train.st 'm["class_counts"]')" = "$(python3 -c 'print([40]*10)')" ] || fail "split train counts"
  [ "$(m val.st 'm["split"]')" = "{'fraction': 0.2, 'name': 'val', 'part': 'val', 'seed': 0}" ] || fail "split record"
  [ "$(m train.st 'm["split"]["part"]')" = remainder ] || fail "split remainder record"
  python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); assert sorted(a+b)==list(range(500)) and a==sorted(a)" \
    "$(tensor train.st index)" "$(tensor val.st index)" || fail "split is not disjoint and complete"
  [ "$(m train.st 'm["history"][-1]["tool"]')" = resample ] || fail "history"
  [ "$(m train.st 'm["history"][-1]["seed"]')" = 0 ] || fail "history seed"
}

# --profile zipf: floor(40 / i) clamped to 5, in the recorded (shuffled) class order.
test_zipf() {
  split_train
  resample --profile zipf --alpha 1 --max 40 --min 5 --seed 3 train.st -o lt.st
  m lt.st '[m["class_counts"][c] for c in m["class_order"]]' >got
  [ "$(cat got)" = "[40, 20, 13, 10, 8, 6, 5, 5, 5, 5]" ] || fail "zipf counts $(cat got)"
  [ "$(m lt.st 'sorted(m["class_order"])')" = "$(python3 -c 'print(list(range(10)))')" ] || fail "class_order"
  [ "$(m lt.st 'm["profile"]["targets"] == m["class_counts"]')" = True ] || fail "profile targets"
  [ "$(m lt.st 'm["profile"]["name"], m["profile"]["alpha"], m["profile"]["order"]')" = "zipf 1.0 shuffle" ] || fail "profile record"
  # index points into train.st, rows ascending, labels agree with the parent's.
  python3 -c "
import json,sys
idx,lab,plab=(json.loads(x) for x in sys.argv[1:4])
assert idx==sorted(idx) and len(set(idx))==len(idx)
assert all(plab[i]==l for i,l in zip(idx,lab))" "$(tensor lt.st index)" "$(tensor lt.st labels)" "$(tensor train.st labels)" \
    || fail "index does not trace back to train.st"
  # Same seed, same bytes; another seed, another class order.
  # (to stdout, so that the recorded arguments agree too)
  resample --profile zipf --alpha 1 --max 40 --min 5 --seed 3 train.st -o - >a.st
  resample --profile zipf --alpha 1 --max 40 --min 5 --seed 3 train.st -o - >b.st
  cmp -s a.st b.st || fail "same seed gave different bytes"
  [ "$(tensor a.st index)" = "$(tensor lt.st index)" ] || fail "stdout and file outputs differ"
  resample --profile zipf --alpha 1 --max 40 --min 5 --seed 4 train.st -o lt3.st
  [ "$(m lt.st 'm["class_order"]')" != "$(m lt3.st 'm["class_order"]')" ] || fail "seeds agree"
}

# exp, step, counts, class orders as-is and size.
test_profiles() {
  split_train
  resample --profile exp --ratio 10 --max 40 --order as-is train.st -o exp.st
  [ "$(m exp.st 'm["class_counts"]')" = "[40, 30, 23, 18, 14, 11, 8, 6, 5, 4]" ] || fail "exp $(m exp.st 'm["class_counts"]')"
  resample --profile step --ratio 4 --head 3 --max 40 --order as-is train.st -o step.st
  [ "$(m step.st 'm["class_counts"]')" = "[40, 40, 40, 10, 10, 10, 10, 10, 10, 10]" ] || fail "step"
  resample --profile counts --counts 1,2,3,4,5,6,7,8,9,0 --order as-is train.st -o counts.st
  [ "$(m counts.st 'm["class_counts"]')" = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 0]" ] || fail "counts"
  resample --profile counts --counts 5,5,5,5,5,4,3,2,1,0 --order size counts.st -o bysize.st
  [ "$(m bysize.st 'm["class_order"]')" = "[8, 7, 6, 5, 4, 3, 2, 1, 0, 9]" ] || fail "order size"
  [ "$(m bysize.st 'm["class_counts"]')" = "[1, 2, 3, 4, 5, 5, 5, 5, 5, 0]" ] || fail "order size counts"
}

# Too few rows: an error naming the class and both numbers, unless --allow-repeat.
test_allow-repeat() {
  split_train
  resample --profile counts --counts 1,2,3,4,5,6,7,8,9,0 --order as-is train.st -o counts.st
  expect_fail 1 "class 9 (c9) has 0 rows but 10 are asked" resample --profile counts --counts 1,1,1,1,1,1,1,1,1,10 --order as-is --allow-repeat counts.st -o bad.st
  expect_fail 1 "class 0 (c0) has 40 rows but 45 are asked (--allow-repeat repeats rows)" resample --per-class 45 train.st -o bad.st
  [ ! -e bad.st ] && [ ! -e bad.st.tmp ] || fail "a failed run left an output file"
  resample --per-class 45 --allow-repeat --seed 1 train.st -o rep.st
  [ "$(m rep.st 'm["class_counts"]')" = "$(python3 -c 'print([45]*10)')" ] || fail "allow-repeat counts"
  [ "$(m rep.st 'len(m["repeated"]), m["repeated"][0]')" = "10 {'available': 40, 'class': 0, 'name': 'c0', 'rows': 45}" ] || fail "repeat record"
  python3 -c "import json,sys; i=json.loads(sys.argv[1]); assert len(i)==450 and len(set(i))==400" "$(tensor rep.st index)" || fail "repeat rows"
}

# --balance: every class oversampled to the largest.
test_balance() {
  $MAKE small.st --classes 3 --per-class 5,3,1 --size 2
  resample --balance --seed 2 small.st -o bal.st
  [ "$(m bal.st 'm["class_counts"], m["balance"]')" = "[5, 5, 5] {'rows_per_class': 5}" ] || fail "balance"
  [ "$(tensor bal.st index | python3 -c 'import json,sys; i=json.load(sys.stdin); print(i.count(2))')" = 5 ] || fail "balance repeats the single row of class 2 (row 2)"
}

# --shard and --concat: the shards cover every row once, and concatenate back.
test_shard() {
  for i in 0 1 2; do resample --shard $i/3 in.st -o part$i.st; done
  [ "$(m part0.st 'm["size"], m["shard"]')" = "166 {'begin': 0, 'count': 3, 'end': 166, 'index': 0}" ] || fail "shard 0"
  [ "$(m part2.st 'm["size"]')" = 167 ] || fail "shard 2"
  resample --concat part0.st part1.st part2.st -o whole.st
  [ "$(tensor whole.st images)" = "$(tensor in.st images)" ] || fail "concat images"
  [ "$(tensor whole.st labels)" = "$(tensor in.st labels)" ] || fail "concat labels"
  [ "$(tensor whole.st index)" = "$(python3 -c 'print(list(range(500)))')" ] || fail "concat index"
  [ "$(m whole.st '[p["rows"] for p in m["concat"]], "shard" in m')" = "[166, 167, 167] False" ] || fail "concat record"
  # A part from a pipe, the output to a pipe: the same tensors.
  resample --concat part0.st - part2.st -o - <part1.st >piped.st
  for t in images labels index; do
    [ "$(tensor piped.st $t)" = "$(tensor whole.st $t)" ] || fail "concat through pipes: $t"
  done
}

# --concat matches parts by class name, and refuses parts that do not fit.
test_concat() {
  resample --shard 0/3 in.st -o part0.st
  $MAKE small.st --classes 3 --per-class 5,3,1 --size 2
  # small.st's classes c0..c2 are all part0.st's (a subset is fine): its image size is not.
  expect_fail 1 "small.st has image shape 1x2x2 but part0.st has 1x8x8; cannot concatenate" \
    resample --concat part0.st small.st -o bad.st
  # Parts with the same classes in another order are remapped to the first's.
  python3 "$(dirname "$LIB")/make_classifier_set.py" ab.st --counts 2,3 --seed 1
  python3 "$(dirname "$LIB")/make_classifier_set.py" ba.st --counts 2,3 --seed 1 --keep 1,0
  resample --concat ab.st ba.st -o abba.st
  [ "$(tensor abba.st labels)" = "[0, 0, 1, 1, 1, 0, 0, 1, 1, 1]" ] || fail "concat by name: $(tensor abba.st labels)"
  [ "$(m abba.st 'm["class_names"]')" = "['c0', 'c1']" ] || fail "concat names"
  python3 "$(dirname "$LIB")/make_classifier_set.py" ac.st --counts 2,3,1 --seed 1 --keep 0,2
  expect_fail 1 'ac.st: class "c2" is not one of the classes of ab.st (c0, c1)' resample --concat ab.st ac.st -o bad.st
  expect_fail 1 "in.st has no tensor index but part0.st has a tensor index" resample --concat part0.st in.st -o bad.st
  [ ! -e bad.st ] || fail "failed concat left an output"
}

# Usage errors exit 2 with one line.
test_usage() {
  split_train
  expect_fail 2 "nothing to do" resample in.st -o bad.st
  expect_fail 2 "cannot be combined" resample --balance --per-class 3 in.st -o bad.st
  expect_fail 2 "--counts has 3 numbers but the data set has 10 classes" resample --profile counts --counts 1,2,3 in.st -o bad.st
  expect_fail 2 "--alpha applies only to --profile zipf" resample --profile exp --alpha 2 in.st -o bad.st
  expect_fail 2 "--split needs --rest" resample --split val=0.2 in.st -o bad.st
  expect_fail 2 "-o and --rest must differ" resample --split val=0.2 in.st -o bad.st --rest bad.st
  expect_fail 2 "expected NAME=FRACTION" resample --split 0.2 --rest v.st in.st -o bad.st
  expect_fail 2 "--shard 3/3" resample --shard 3/3 in.st -o bad.st
  expect_fail 2 "one input expected" resample --per-class 1 in.st train.st -o bad.st
  expect_fail 2 "--min must lie" resample --profile zipf --max 10 --min 11 in.st -o bad.st
  expect_fail 2 "--max must be at least 1" resample --profile exp --max -3 in.st -o bad.st
  expect_fail 2 "gives the class at position 4 no rows" resample --profile zipf --max 10 --min 0 in.st -o bad.st
  expect_fail 1 "missing.st" resample --per-class 1 missing.st -o bad.st
  [ ! -e bad.st ] && [ ! -e v.st ] || fail "usage error left an output file"
}

# Pipes: stdin and stdout.
test_pipes() {
  resample --per-class 3 --seed 1 in.st -o - | inspect - >inspect.txt
  grep -q '"size": 30' inspect.txt || fail "pipe to inspect"
  [ "$(cat in.st | resample --per-class 2 - | inspect --json - | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest"]["size"])')" = 20 ] \
    || fail "pipe from stdin"
}

# The issue's chain: split off 20 % for validation, then the K49-LT profile.
test_chain() {
  check_chain() {
    resample --profile zipf --alpha 2 --max 4800 --min 5 --seed 0 chain-train.st -o chain-lt.st
    got=$(json chain-lt.st '[d["manifest"]["class_counts"][c] for c in d["manifest"]["class_order"]]')  # via inspect --json
    [ "$got" = "[4800, 1200, 533, 300, 192, 133, 97, 75, 59, 48]" ] || fail "chain counts: $got"
  }
  FMNIST=/usr/share/datasets/fashion-mnist
  if [ -e "$FMNIST/train-images-idx3-ubyte.gz" ] && command -v convert >/dev/null && convert --version 2>/dev/null | grep -q invkit; then
    convert idx "$FMNIST/train-images-idx3-ubyte.gz" "$FMNIST/train-labels-idx1-ubyte.gz" -o - \
      | resample --split val=0.2 --seed 0 - -o chain-train.st --rest chain-val.st
    [ "$(m chain-val.st 'm["size"]')" = 12000 ] || fail "fashion-mnist val size"
    check_chain
  else
    echo "convert or Fashion-MNIST missing: the chain runs on a synthetic 10 x 6000 set" >&2
    $MAKE - --classes 10 --per-class 6000 --size 2 | resample --split val=0.2 --seed 0 - -o chain-train.st --rest chain-val.st
    check_chain
  fi
}

# --- 0 rows (issue 13): every mode gives a correct empty set, or names the file.
test_empty() {
  split_train
  resample --per-class 0 in.st -o empty.st
  [ "$(m empty.st 'm["size"], m["class_counts"]')" = "0 [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]" ] || fail "--per-class 0"
  resample --split val=0.5 empty.st -o e-rest.st --rest e-val.st
  [ "$(m e-rest.st 'm["size"]') $(m e-val.st 'm["size"]')" = "0 0" ] || fail "--split of 0 rows"
  resample --balance empty.st -o e-bal.st
  [ "$(m e-bal.st 'm["size"]')" = 0 ] || fail "--balance of 0 rows"
  resample --shard 1/2 empty.st -o e-sh.st
  [ "$(m e-sh.st 'm["size"], m["shard"]["begin"], m["shard"]["end"]')" = "0 0 0" ] || fail "--shard of 0 rows"
  resample --profile counts --counts 0,0,0,0,0,0,0,0,0,0 --order as-is empty.st -o e-counts.st
  [ "$(m e-counts.st 'm["size"]')" = 0 ] || fail "--profile counts of 0 rows"
  resample --concat empty.st train.st -o e-cat.st
  [ "$(m e-cat.st 'm["size"]')" = 400 ] || fail "--concat with an empty part"
  expect_fail 1 "resample: error: empty.st: class 0 (c0) has 0 rows but 1 are asked" resample --per-class 1 empty.st -o bad.st
  expect_fail 1 "resample: error: empty.st: every class is empty (0 rows), so there is no largest class to take the first class's size from; give --max" \
    resample --profile zipf empty.st -o bad.st
  expect_fail 1 "resample: error: empty.st: class [0-9] (c[0-9]) has 0 rows but" resample --profile zipf --max 10 empty.st -o bad.st
  [ ! -e bad.st ] || fail "output left after an empty-set error"
}

run_tests "$@"
