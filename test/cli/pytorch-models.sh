# evaluate and measure-ekld on classifiers trained elsewhere: the paper's
# resnet20 from PyTorch as a safetensors state dict, a torch.save checkpoint
# (LDAM-DRW's layout) and a TorchScript file give what the invkit checkpoint
# of the same weights gives, and PyTorch's own logits. Needs Debian's
# python3-torch (scripts/setup installs it), or the python3 that
# INVKIT_PYTHON names; skips (77) without it.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LIB"
PY=${INVKIT_PYTHON:-/usr/bin/python3}  # a python3 that imports torch
$PY -c 'import torch' 2>/dev/null || { echo "SKIP: $PY cannot import torch (apt-get install python3-torch)"; exit 77; }
mk() { python3 "$HERE/make_classifier_set.py" "$@"; }

# c.st: a resnet20 trained by invkit; py/: the same weights as PyTorch writes
# them (pytorch_models.py: a state dict, torch.save checkpoints, TorchScript)
# and PyTorch's logits; MEAN, STD: c.st's input normalization.
setup() {
  mk train.st --counts 60,30,15,8 --seed 1
  mk test.st --counts 12,12,12,12 --seed 3
  train-classifier train.st --arch resnet20 --epochs 2 --warmup 1 --step1 1 --step2 2 --batch 16 --lr 0.05 \
    --seed 1 --threads 1 --quiet -o c.st >/dev/null
  mkdir py
  $PY "$HERE/pytorch_models.py" c.st test.st py || fail "pytorch_models.py"
  read -r MEAN STD < <(json c.st 'd["manifest"]["normalization"]["mean"][0], d["manifest"]["normalization"]["std"][0]' | tr -d '(),')
}

# Each file kind, with what it does not record given as options, gives what
# the invkit checkpoint gives, and PyTorch's logits.
test_agree() {
  evaluate c.st test.st --threads 1 >eval-invkit.json
  measure-ekld c.st test.st --transform 'rotate(-30,30)' --per-class 4 --samples 3 --threads 1 --quiet \
    --dump-logits logits-invkit.st >ekld-invkit.json
  for f in py/sd.safetensors py/ckpt.pth py/model.pt; do
    arch=(--arch resnet20)
    [ "$f" = py/model.pt ] && arch=()
    name=$(basename "$f")
    evaluate "$f" test.st "${arch[@]}" --mean "$MEAN" --std "$STD" --train train.st --threads 1 >"eval-$name.json"
    measure-ekld "$f" test.st "${arch[@]}" --mean "$MEAN" --std "$STD" --train train.st --transform 'rotate(-30,30)' \
      --per-class 4 --samples 3 --threads 1 --quiet --dump-logits "logits-$name.st" >"ekld-$name.json"
  done

  $PY - <<'PY' || fail "models trained elsewhere disagree with the invkit checkpoint or with PyTorch"
import json, os, sys, torch
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
from pytorch_models import read_safetensors

def tensors(path):
    return read_safetensors(path)[0]

ref_eval = json.load(open("eval-invkit.json"))
ref_ekld = json.load(open("ekld-invkit.json"))["checkpoints"][0]
ref_logits = tensors("logits-invkit.st")
torch_out = json.load(open("py/logits.json"))
pt = torch.tensor(torch_out["logits"])
# invkit's own logits of the measured rows against PyTorch's logits of the same images.
rows = ref_logits["rows"]
assert torch.allclose(ref_logits["original.0"], pt[rows], atol=1e-4, rtol=1e-4), \
    (ref_logits["original.0"] - pt[rows]).abs().max()
assert abs(ref_eval["accuracy"] - torch_out["accuracy"]) < 1e-12, (ref_eval["accuracy"], torch_out["accuracy"])
for name in ("sd.safetensors", "ckpt.pth", "model.pt"):
    e = json.load(open(f"eval-{name}.json"))
    assert e["accuracy"] == ref_eval["accuracy"] and e["confusion"] == ref_eval["confusion"], name
    assert [c["train_count"] for c in e["per_class"]] == [c["train_count"] for c in ref_eval["per_class"]], name
    k = json.load(open(f"ekld-{name}.json"))["checkpoints"][0]
    for a, b in zip(k["classes"], ref_ekld["classes"]):
        assert a["name"] == b["name"] and a["n_train"] == b["n_train"], (name, a, b)
        # TorchScript runs BatchNorm unfolded: float32 rounding differs, to 1e-6 relative.
        assert abs(a["ekld"] - b["ekld"]) <= 1e-6 * max(1, abs(b["ekld"])) and a["accuracy"] == b["accuracy"], (name, a, b)
    lg = tensors(f"logits-{name}.st")
    assert torch.allclose(lg["original.0"], ref_logits["original.0"], atol=1e-5, rtol=1e-5), name
PY

  # A checkpoint with the optimizer's state beside the weights reads as well.
  evaluate py/full.pth test.st --arch resnet20 --mean "$MEAN" --std "$STD" --train train.st --threads 1 >full.json
  cmp <(grep -o '"accuracy":[^,]*' full.json) <(grep -o '"accuracy":[^,]*' eval-ckpt.pth.json) ||
    fail "full.pth: $(cat full.json)"
  # Named outputs are matched by name: the data's classes in another order are scored by name.
  printf 'c3\nc2\nc1\nc0\n' >reversed.txt
  evaluate py/model.pt test.st --mean "$MEAN" --std "$STD" --class-names reversed.txt --threads 1 >rev.json
  $PY -c '
import json; r = json.load(open("rev.json")); e = json.load(open("eval-model.pt.json"))
# Output i is now named c(3-i): the images of c(3-i) are right when the model says i.
assert [c["name"] for c in r["per_class"]] == ["c3", "c2", "c1", "c0"], r["per_class"]
for i, c in enumerate(r["per_class"]):
    assert c["accuracy"] == e["confusion"][3 - i][i] / 12, (i, c, e["confusion"])
' || fail "--class-names"
}

# What such a file lacks must be given; what does not fit is named.
test_errors() {
  expect_fail 2 "say which architecture it is with --arch" evaluate py/sd.safetensors test.st --mean 0 --std 1
  expect_fail 2 "needs its input normalization: --mean and --std" evaluate py/ckpt.pth test.st --arch resnet20
  expect_fail 2 "eKLD is set against each class's training size: give it with --train SET or --train-counts" \
    measure-ekld py/model.pt test.st --mean 0 --std 1 --transform rotate --quiet
  expect_fail 1 "does not fit the model: missing layer1.3.conv1.weight" \
    evaluate py/sd.safetensors test.st --arch resnet32 --mean 0 --std 1
  expect_fail 2 "is an invkit checkpoint, which records" evaluate c.st test.st --arch resnet20
  mk rgb.st --counts 3,3,3,3 --shape 3,12,12
  expect_fail 1 "the model takes 1-channel images but rgb.st has 3" \
    evaluate py/ckpt.pth rgb.st --arch resnet20 --mean 0 --std 1
  expect_fail 1 "the model does not run on images of 3x12x12 (the images of rgb.st)" \
    evaluate py/model.pt rgb.st --mean 0 --std 1
  mk five.st --counts 3,3,3,3,3
  expect_fail 1 "the model has 4 outputs but five.st has 5 classes" \
    evaluate py/model.pt five.st --mean 0 --std 1
  # A data class the model does not name is an error.
  printf 'a\nb\nc\nd\n' >abcd.txt
  expect_fail 1 'class "c0" is not one of the classes of py/model.pt (a, b, c, d)' \
    evaluate py/model.pt test.st --mean 0 --std 1 --class-names abcd.txt
  # A checkpoint that holds other Python objects than tensors is refused, naming the class.
  expect_fail 1 "namespace.pth: data.pkl holds the Python object argparse.Namespace, which a weights-only reader" \
    evaluate py/namespace.pth test.st --arch resnet20 --mean 0 --std 1
}

run_tests "$@"
