# invkit and the real safetensors library (PyPI) read each other's files: the
# library reads an invkit data set and checkpoint, whose tensors load strict
# into the paper's resnet20 in PyTorch with evaluate's accuracy; a state dict
# that safetensors.torch.save_file writes is evaluated by invkit with the same
# result. Needs a python3 with safetensors and torch (INVKIT_PYTHON, which
# scripts/test sets up); skips (77) without them.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LIB"
PY=${INVKIT_PYTHON:-/usr/bin/python3}
$PY -c 'import safetensors, torch' 2>/dev/null ||
  { echo "SKIP: $PY cannot import safetensors and torch (scripts/test puts safetensors in .venv-test)"; exit 77; }
mk() { python3 "$HERE/make_classifier_set.py" "$@"; }

# The library reads invkit's data set and checkpoint (the weights load strict
# into resnet20 with evaluate's accuracy); invkit evaluates the state dict the
# library writes with the same result.
test_round-trip() {
  mk train.st --counts 60,30,15,8 --seed 1
  mk test.st --counts 12,12,12,12 --seed 3
  train-classifier train.st --arch resnet20 --epochs 2 --warmup 1 --step1 1 --step2 2 --batch 16 --lr 0.05 \
    --seed 1 --threads 1 --quiet -o c.st >/dev/null
  evaluate c.st test.st --threads 1 >invkit.json

  HERE="$HERE" $PY - <<'PY' || fail "the safetensors library and invkit disagree"
import json, os, sys
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
sys.path.insert(0, os.environ["HERE"])
from pytorch_models import CifarResNet

with safe_open("test.st", "pt") as f:
    data = json.loads(f.metadata()["invkit"])
    images, labels = f.get_tensor("images"), f.get_tensor("labels")
assert data["format"] == "invkit.dataset/1" and list(images.shape) == [48, 1, 12, 12], (data, images.shape)
assert images.dtype == torch.uint8 and labels.dtype == torch.int64 and labels.tolist().count(3) == 12

with safe_open("c.st", "pt") as f:
    ckpt = json.loads(f.metadata()["invkit"])
tensors = load_file("c.st")
model = CifarResNet(20, 1, 4, False)
model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("optimizer.")}, strict=True)
model.eval()
norm = ckpt["normalization"]
with torch.no_grad():
    logits = model((images.float() / 255 - norm["mean"][0]) / norm["std"][0])
accuracy = (logits.argmax(1) == labels).double().mean().item()
expected = json.load(open("invkit.json"))["accuracy"]
assert abs(accuracy - expected) < 1e-12, (accuracy, expected)
save_file(model.state_dict(), "library.safetensors", metadata={"format": "pt"})
print(norm["mean"][0], norm["std"][0], file=open("norm.txt", "w"))
PY
  read -r MEAN STD <norm.txt
  evaluate library.safetensors test.st --arch resnet20 --mean "$MEAN" --std "$STD" --train train.st --threads 1 >library.json
  python3 -c '
import json; a = json.load(open("invkit.json")); b = json.load(open("library.json"))
assert a["accuracy"] == b["accuracy"] and a["confusion"] == b["confusion"], (a, b)
' || fail "evaluate of the library's file differs from the invkit checkpoint's"
}

run_tests "$@"
