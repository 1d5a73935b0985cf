"""The one safetensors reader and invkit data-set writer the tool tests and
test-set makers share (standard library only, so the tests need no PyPI):
`write` makes a data set (`images` U8 [N, C, H, W], `labels` I64 [N], the
invkit manifest in the header's metadata); `header`, `manifest`, `tensor`,
`tensors` and `raw_tensors` read any safetensors file.

From a test script's inline Python:
    sys.path.insert(0, os.path.dirname(os.environ["LIB"])); import invkit_set"""
import json
import struct
import sys


def write(out, images, labels, shape, class_names, history):
    """images: the pixel bytes, row-major [N, C, H, W]; labels: class ids;
    shape: (C, H, W); history: the manifest's list of tool entries.
    OUT may be - for stdout."""
    n = len(labels)
    c, h, w = shape
    if len(images) != n * c * h * w:
        sys.exit("invkit_set.py: %d image bytes for %d images of %dx%dx%d" % (len(images), n, c, h, w))
    k = len(class_names)
    label_bytes = struct.pack("<%dq" % n, *labels)
    manifest = {"format": "invkit.dataset/1", "num_classes": k, "class_names": list(class_names),
                "class_counts": [labels.count(i) for i in range(k)], "size": n,
                "channels": c, "height": h, "width": w, "history": history}
    header = {
        "__metadata__": {"invkit": json.dumps(manifest)},
        "images": {"dtype": "U8", "shape": [n, c, h, w], "data_offsets": [0, len(images)]},
        "labels": {"dtype": "I64", "shape": [n], "data_offsets": [len(images), len(images) + len(label_bytes)]},
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # the format pads the header to 8 bytes
    blob = struct.pack("<Q", len(head)) + head + bytes(images) + label_bytes
    if out == "-":
        sys.stdout.buffer.write(blob)
    else:
        with open(out, "wb") as f:
            f.write(blob)


FORMATS = {"U8": "B", "I8": "b", "I16": "h", "I32": "i", "I64": "q", "F32": "f", "F64": "d", "BOOL": "?"}


def _split(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def header(path):
    """The JSON header, __metadata__ included."""
    return _split(path)[0]


def manifest(path):
    """The invkit manifest (a dict), or None."""
    meta = header(path).get("__metadata__", {})
    return json.loads(meta["invkit"]) if "invkit" in meta else None


def raw_tensors(path):
    """{name: bytes} of every tensor."""
    h, data = _split(path)
    h.pop("__metadata__", None)
    return {k: data[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in h.items()}


def tensors(path):
    """{name: (shape, values)} of every tensor; values a flat tuple."""
    h, data = _split(path)
    h.pop("__metadata__", None)
    out = {}
    for k, v in h.items():
        raw = data[v["data_offsets"][0]:v["data_offsets"][1]]
        fmt = FORMATS[v["dtype"]]
        out[k] = (v["shape"], struct.unpack("<%d%s" % (len(raw) // struct.calcsize(fmt), fmt), raw))
    return out


def tensor(path, name):
    """(shape, values) of one tensor."""
    return tensors(path)[name]
