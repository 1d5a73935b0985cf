#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz corpus (test/fuzz/corpus/TARGET/seed-*).

The other seeds are copies of test/fixtures, two JPEGs written by
stb_image_write (seed-gray.jpg, seed-rgb-subsampled.jpg: no JPEG encoder in
Python's standard library) and inputs the fuzzer found (named by the
finding, each also a fixture of a unit test). Python's standard library
only; run from anywhere.
"""
import gzip
import json
import os
import struct
import zipfile
import zlib

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(CORPUS, target, "seed-" + name), "wb") as f:
        f.write(data)


NONE = object()


def safetensors(tensors, metadata=NONE):
    """tensors: [(name, dtype, shape, bytes)] in data order; metadata may be None (null)."""
    header, data = {}, b""
    if metadata is not NONE:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def npy(descr, shape, raw, version=1, fortran=False):
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, repr(tuple(shape)))
    head_len = 10 if version == 1 else 12
    pad = -(head_len + len(d) + 1) % 64
    text = (d + " " * pad + "\n").encode()
    size = struct.pack("<H", len(text)) if version == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([version, 0]) + size + text + raw


def png(width, height, color_type, rows, bit_depth=8, palette=None, interlace=0):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace))
    if palette:
        out += chunk(b"PLTE", palette)
    return out + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def idx(magic, dims, data):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + data


# safetensors: the smallest file, metadata only, and a data set with index and params.
put("safetensors", "empty-object.st", struct.pack("<Q", 8) + b"{}      ")
put("safetensors", "null-metadata.st", safetensors([("x", "U8", [2], b"\x01\x02")], None))
put("safetensors", "zero-size.st", safetensors([("a", "F32", [0, 3], b""), ("b", "I64", [], b"\x07" * 8)], {"k": "v"}))
labels = struct.pack("<3q", 0, 1, 1)
put("safetensors", "dataset.st", safetensors(
    [("labels", "I64", [3], labels), ("index", "I64", [3], struct.pack("<3q", 4, 5, 6)),
     ("params", "F32", [3, 1], struct.pack("<3f", 0.5, -1.0, 2.0)), ("images", "U8", [3, 1, 2, 2], bytes(range(12)))],
    {"invkit": json.dumps({"format": "invkit.dataset/1", "num_classes": 2, "class_names": ["a", "b"]})}))

# manifest: the text stored under __metadata__["invkit"] of a set of 3 gray
# 2x2 images labelled 0, 1, 1 (see fuzz.cpp).
put("manifest", "full.json", json.dumps({
    "format": "invkit.dataset/1", "num_classes": 2, "class_names": ["a", "b"], "class_counts": [1, 2], "size": 3,
    "channels": 1, "height": 2, "width": 2, "params_columns": ["rotate.angle"],
    "augment": {"transform": "rotate(-10,10)", "seed": 1, "samples": 1, "keep_original": False, "device": "cpu"},
    "history": [{"tool": "convert", "version": "0.1.0", "arguments": ["idx", "a.idx", "b.idx", "-o", "x.st"],
                 "escaped_arguments": True, "seed": 0}]}))
put("manifest", "numbered.json", '{"num_classes":2}')
put("manifest", "empty.json", "{}")
put("manifest", "escaped-name.json", '{"class_names":["caf\\\\xe9","b"],"class_counts":[1,2]}')

# idx: gzip with two members, a 1-D and a 3-D file.
images = idx(0x803, [2, 2, 3], bytes(range(12)))
put("idx", "two-members.idx.gz", gzip.compress(images[:10]) + gzip.compress(images[10:]))
put("idx", "labels-1.idx", idx(0x801, [1], b"\x05"))

# cifar: one CIFAR-10 record, gzipped, in two members.
record = b"\x03" + bytes(i % 256 for i in range(3072))
put("cifar", "two-members.bin.gz", gzip.compress(record[:1000]) + gzip.compress(record[1000:]))

# npy: uint8 images, version 2.0, bool, big-endian uint64, fortran order, 0-d.
put("npy", "u1-images.npy", npy("|u1", [2, 3, 3], bytes(range(18))))
put("npy", "v2-i8.npy", npy("<i8", [3], struct.pack("<3q", 0, 1, 2), version=2))
put("npy", "bool.npy", npy("|b1", [2, 1], b"\x01\x00"))
put("npy", "be-u8.npy", npy(">u8", [2], struct.pack(">2Q", 1, 2)))
put("npy", "fortran-u1.npy", npy("|u1", [2, 2, 3, 1], bytes(range(12)), fortran=True))
put("npy", "scalar.npy", npy("<f8", [], struct.pack("<d", 1.5)))

# npz: stored and deflated members, as np.savez and np.savez_compressed write them.
def npz(name, members, compression):
    path = os.path.join(CORPUS, "npz", "seed-" + name)
    with zipfile.ZipFile(path, "w", compression) as z:
        for member, data in members:
            z.writestr(member, data)
npz("stored.npz", [("images.npy", npy("|u1", [2, 2, 2], bytes(range(8)))), ("labels.npy", npy("<i8", [2], struct.pack("<2q", 0, 1)))], zipfile.ZIP_STORED)
npz("deflated.npz", [("arr_0.npy", npy("|u1", [1, 2, 2, 3], bytes(range(12))))], zipfile.ZIP_DEFLATED)

# image: PNG colour types (gray, RGB, palette, gray+alpha, RGBA), 16 bits, interlaced.
put("image", "rgb.png", png(2, 2, 2, [bytes(range(6)), bytes(range(6, 12))]))
put("image", "palette.png", png(2, 2, 3, [b"\x00\x01", b"\x01\x00"], palette=b"\x00\x00\x00\xff\x80\x00"))
put("image", "gray-alpha.png", png(2, 1, 4, [b"\x10\xff\x20\x80"]))
put("image", "rgba.png", png(1, 2, 6, [b"\x01\x02\x03\x04", b"\x05\x06\x07\x08"]))
put("image", "gray16.png", png(2, 2, 0, [b"\x00\x01\x02\x03", b"\x04\x05\x06\x07"], bit_depth=16))
put("image", "interlaced.png", png(3, 3, 0, [b"\x00\x00\x00"] * 3, interlace=1))
# BMP: 2x2, 8-bit palette (bottom-up rows padded to 4 bytes).
pixels = b"\x00\x01\x00\x00\x01\x00\x00\x00"
palette = b"\x00\x00\x00\x00\xff\xff\xff\x00"
dib = struct.pack("<IiiHHIIiiII", 40, 2, 2, 1, 8, 0, len(pixels), 2835, 2835, 2, 0)
put("image", "palette.bmp", b"BM" + struct.pack("<IHHI", 14 + len(dib) + len(palette) + len(pixels), 0, 0, 14 + len(dib) + len(palette)) + dib + palette + pixels)

# transform: the grammar's forms, every operation, weights, presets, interp=.
specs = {
    "presets": "rotate+hflip|vflip+invert|background|dilate-erode|identity",
    "weighted": "0.6:dilate(2,4)|0.4:erode(1,2)",
    "nested": "background+(0.5:scale(0.8,1.2)|0.5:identity)",
    "geometric": "rotate(-180,180,interp=bicubic)+translate(0.1,0.2)+scale(0.9,1.1)+aspect(0.8,1.25)+shear(-10,10)+crop-resize(0.5,1)",
    "pixel": "brightness(0.5,1.5)+contrast(0.5,2)+gamma(0.5,2)+noise(8)+blur(0,2)+background(0,100)",
    "other": "elastic(34,4)+dilate(1,3)+erode(2,2)+hflip(1)+vflip(0)+invert(0.5)",
    "interp": "rotate(10,20,interp=nearest)+scale(1,1, interp = bilinear)",
    "numbers": " rotate( -1e1 , +.5e+1 ) | 2.5 : identity ",
}
for name, spec in specs.items():
    put("transform", name, spec)
