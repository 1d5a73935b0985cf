"""The one invkit data-set writer the test-set makers share (standard library
only): safetensors with `images` U8 [N, C, H, W], `labels` I64 [N] and the
invkit manifest in the header's metadata."""
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
