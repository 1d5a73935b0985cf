# convert: imports (idx, cifar10, cifar100, folder, list), export, errors, exit codes.
source "$LIB"
F=$FIXTURES
L=$(printf 'caf\xe9')  # "café" in Latin-1

# m FILE EXPR: like json, but runs inspect once per FILE (each tool start
# costs a LibTorch load); `d` is the manifest.
m() {
  [ -e "$1.json" ] || inspect --json "$1" >"$1.json"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['manifest']; print($2)" "$1.json"
}

# png_size FILE: "WIDTHxHEIGHT" from the PNG header.
png_size() { python3 -c "import struct,sys; w,h=struct.unpack('>II', open(sys.argv[1],'rb').read()[16:24]); print(f'{w}x{h}')" "$1"; }

# The sets that several behaviours start from (test_idx checks them):
# t.st (gzipped IDX, classes 0 1 2), raw.st (the same, raw), f.st (a
# "fashion" path: the 10 Fashion-MNIST names), c10.st (CIFAR-10).
idx_t() { convert idx "$F/tiny-images.idx.gz" "$F/tiny-labels.idx.gz" -o t.st; }
idx_raw() { convert idx "$F/tiny-images.idx" "$F/tiny-labels.idx" -o raw.st; }
idx_fashion() {
  cp "$F/tiny-images.idx.gz" my-fashion-images.gz
  convert idx my-fashion-images.gz "$F/tiny-labels.idx.gz" -o f.st
}
cifar10() { convert cifar10 "$F/tiny-cifar10.bin" "$F/tiny-cifar10.bin" -o c10.st; }

test_version() {
  convert --version | grep -q '^convert (invkit) ' || fail "--version"
  convert idx --version | grep -q '^convert (invkit) ' || fail "--version after a subcommand"
}

# --- idx -------------------------------------------------------------------
test_idx() {
  idx_t
  [ "$(m t.st 'd["class_counts"]')" = "[2, 2, 2]" ] || fail "idx class counts"
  [ "$(m t.st 'd["class_names"]')" = "['0', '1', '2']" ] || fail "idx numbered names"
  [ "$(m t.st '[d[k] for k in ("size","channels","height","width")]')" = "[6, 1, 3, 4]" ] || fail "idx shape"
  [ "$(m t.st '(d["history"][-1]["tool"], d["history"][-1]["arguments"][0])')" = "('convert', 'idx')" ] ||
    fail "idx history"
  [ "$(json t.st '[(t["name"], t["dtype"], t["shape"]) for t in d["tensors"]]')" = \
    "[('labels', 'I64', [6]), ('images', 'U8', [6, 1, 3, 4])]" ] || fail "idx tensors"

  # Raw files give the same data as gzipped ones: the last 6×8 label bytes and
  # 6×3×4 pixel bytes (the headers differ: their history names other files).
  idx_raw
  cmp -s <(tail -c 120 t.st) <(tail -c 120 raw.st) || fail "raw and gzipped IDX differ"

  convert idx "$F/tiny-images.idx" "$F/tiny-labels.idx" --transpose -o tr.st
  [ "$(m tr.st '[d["height"], d["width"]]')" = "[4, 3]" ] || fail "--transpose"

  # A path with "fashion" in it gets the Fashion-MNIST names.
  idx_fashion
  [ "$(m f.st '(d["class_names"][0], d["num_classes"])')" = "('T-shirt/top', 10)" ] ||
    fail "fashion default names"
  [ "$(m f.st 'd["class_counts"]')" = "[2, 2, 2, 0, 0, 0, 0, 0, 0, 0]" ] || fail "fashion counts"

  convert idx "$F/tiny-images.idx" "$F/tiny-labels.idx" --class-names "$F/three-class-names.txt" -o n.st
  [ "$(m n.st 'd["class_names"]')" = "['zero', 'one', 'two']" ] || fail "--class-names FILE"

  # To stdout, through a pipe.
  convert idx "$F/tiny-images.idx" "$F/tiny-labels.idx" -o - | inspect --json - >piped.json
  python3 -c "import json; d=json.load(open('piped.json')); assert d['manifest']['size'] == 6, d" || fail "-o - pipe"
}

# --- idx errors: one line naming the file, exit 1 (2 for usage), no output file
test_idx-errors() {
  expect_fail 1 "bad-magic.idx: wrong magic number 0x03080000, expected 0x00000803" \
    convert idx "$F/bad-magic.idx" "$F/tiny-labels.idx" -o e.st
  expect_fail 1 "truncated-images.idx: truncated: the header says 6x3x4 (72 bytes of data), the file holds 67" \
    convert idx "$F/truncated-images.idx" "$F/tiny-labels.idx" -o e.st
  expect_fail 1 "tiny-images.idx has 6 images but .*count-mismatch-labels.idx has 5 labels" \
    convert idx "$F/tiny-images.idx" "$F/count-mismatch-labels.idx" -o e.st
  expect_fail 1 "corrupt-gzip-images.idx.gz: corrupt gzip data" \
    convert idx "$F/corrupt-gzip-images.idx.gz" "$F/tiny-labels.idx" -o e.st
  expect_fail 1 "truncated-gzip-images.idx.gz: truncated gzip data" \
    convert idx "$F/truncated-gzip-images.idx.gz" "$F/tiny-labels.idx" -o e.st
  expect_fail 1 "no-such.idx: cannot open" convert idx no-such.idx "$F/tiny-labels.idx" -o e.st
  expect_fail 1 "convert: error: --class-names fashion-mnist: 10 class names, but the labels run 0..2 (3 classes)" \
    convert idx "$F/tiny-images.idx" "$F/tiny-labels.idx" --class-names fashion-mnist -o e.st
  expect_fail 2 "--class-names nope: neither a built-in list" \
    convert idx "$F/tiny-images.idx" "$F/tiny-labels.idx" --class-names nope -o e.st
  cp "$F/tiny-images.idx" fashion.idx
  expect_fail 1 "out-of-range-labels.idx: label 12 at row 5 is out of range for the 10 default class names" \
    convert idx fashion.idx "$F/out-of-range-labels.idx" -o e.st
  # Without a fashion path the same labels give 13 numbered classes.
  convert idx "$F/tiny-images.idx" "$F/out-of-range-labels.idx" -o o.st
  [ "$(m o.st 'd["num_classes"]')" = "13" ] || fail "numbered names up to the max label"
  expect_fail 2 "images is required" convert idx -o e.st
  expect_fail 2 "A subcommand is required" convert
  [ ! -e e.st ] && [ ! -e e.st.tmp ] || fail "a failed convert left an output file"
}

# --- cifar -----------------------------------------------------------------
test_cifar() {
  cifar10
  [ "$(m c10.st '[d[k] for k in ("size","channels","height","width")]')" = "[6, 3, 32, 32]" ] || fail "cifar10 shape"
  [ "$(m c10.st '(d["class_counts"][0], d["class_counts"][7], d["class_counts"][9])')" = \
    "(2, 2, 2)" ] || fail "cifar10 counts"
  [ "$(m c10.st 'd["class_names"][7]')" = "horse" ] || fail "cifar10 names"
  convert cifar100 "$F/tiny-cifar100.bin" -o fine.st
  convert cifar100 "$F/tiny-cifar100.bin" --coarse -o coarse.st
  [ "$(m fine.st '(d["num_classes"], d["class_counts"][42], d["class_names"][99])')" = \
    "(100, 1, 'worm')" ] || fail "cifar100 fine"
  [ "$(m coarse.st '(d["num_classes"], d["class_counts"][3], d["class_names"][19])')" = \
    "(20, 1, 'vehicles_2')" ] || fail "cifar100 coarse"
  expect_fail 1 "bad-length-cifar10.bin: 6153 bytes is not a whole number of CIFAR-10 records of 3073 bytes" \
    convert cifar10 "$F/tiny-cifar10.bin" "$F/bad-length-cifar10.bin" -o e.st
  expect_fail 1 "bad-label-cifar10.bin: record 0 has label 10, expected 0..9" convert cifar10 "$F/bad-label-cifar10.bin" -o e.st
  expect_fail 1 "--class-names .*three-class-names.txt: 3 class names, but the labels run 0..9" \
    convert cifar10 "$F/tiny-cifar10.bin" --class-names "$F/three-class-names.txt" -o e.st
  [ ! -e e.st ] || fail "a failed cifar convert left an output file"
}

# --- npz ---------------------------------------------------------------------
# Files written by NumPy (test/fixtures/make-npz-fixtures.py): Kuzushiji-49's
# layout (two archives of one array each), and one compressed archive with
# named channels-last RGB images and int64 labels.
test_npz() {
  convert npz "$F/npz/k49-like-imgs.npz" "$F/npz/k49-like-labels.npz" -o k49.st
  [ "$(m k49.st '(d["class_names"], d["class_counts"], d["channels"], d["height"], d["width"])')" = \
    "(['0', '1', '2'], [2, 1, 2], 1, 3, 4)" ] || fail "npz: $(m k49.st 'd')"
  convert npz "$F/npz/rgb-compressed.npz" --images-key x_train --labels-key y_train -o rgb.st
  [ "$(m rgb.st '(d["channels"], d["height"], d["width"], d["class_counts"])')" = "(3, 2, 3, [1, 2, 0, 1])" ] ||
    fail "npz rgb: $(m rgb.st 'd')"
  # A .npz archive's images are decompressed and written a chunk of rows at
  # a time: two rows (stored, gray) and one row (deflated, channels last, to
  # a pipe) at a time give the fixtures' pixel formula, in NCHW order.
  convert npz "$F/npz/k49-like-imgs.npz" "$F/npz/k49-like-labels.npz" --batch 2 -o k49-2.st
  convert npz "$F/npz/rgb-compressed.npz" --images-key x_train --labels-key y_train --batch 1 -o - >rgb-1.st
  python3 - <<'PY' || fail "npz --batch: the images differ from the fixtures' formula"
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
def formula(n, c, h, w):
    return bytes((i * 50 + y * 10 + x * 3 + k) % 256 for i in range(n) for k in range(c) for y in range(h) for x in range(w))
for f, shape, reference in (("k49-2.st", (5, 1, 3, 4), "k49.st"), ("rgb-1.st", (4, 3, 2, 3), "rgb.st")):
    a, b = invkit_set.raw_tensors(f), invkit_set.raw_tensors(reference)
    assert a["images"] == formula(*shape), f
    assert a == b, f + " differs from " + reference
PY
  convert npz "$F/npz/imgs-fortran.npy" "$F/npz/labels-be-i4.npy" -o npy.st
  cmp -s <(tail -c 60 npy.st) <(tail -c 60 k49.st) || fail "npy (Fortran order, big-endian labels) differs from the npz"
  expect_fail 2 "holds several arrays (x_train, y_train): say which with a key" convert npz "$F/npz/rgb-compressed.npz" -o e.st
  expect_fail 1 "images are Float, expected uint8" convert npz "$F/npz/imgs-float32.npy" "$F/npz/labels-3.npy" -o e.st
  expect_fail 1 "labels-3.npy: 3 labels for 5 images" convert npz "$F/npz/imgs-fortran.npy" "$F/npz/labels-3.npy" -o e.st
  expect_fail 1 "not a readable .npz (zip) archive" convert npz "$F/tiny-images.idx" "$F/npz/labels-3.npy" -o e.st
  [ ! -e e.st ] || fail "a failed npz convert left an output file"
}

# --- folder ----------------------------------------------------------------
test_folder() {
  convert folder "$F/tiny-folder" -o folder.st
  [ "$(m folder.st '(d["class_names"], d["class_counts"], d["channels"])')" = \
    "(['cat', 'dog'], [2, 1], 3)" ] || fail "folder"
  convert folder "$F/tiny-folder" --channels 1 -o gray.st
  [ "$(m gray.st '[d[k] for k in ("channels","height","width")]')" = "[1, 3, 4]" ] || fail "folder --channels 1"
  # Written chunk by chunk: one image at a time, to a pipe, gives the same tensors.
  convert folder "$F/tiny-folder" --batch 1 -o - >piped.st
  python3 - <<'PY' || fail "folder --batch 1 to a pipe differs"
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
a, b = (invkit_set.raw_tensors(f) for f in ("folder.st", "piped.st"))
assert all(a[k] == b[k] for k in ("images", "labels")), "differ"
PY
  expect_fail 1 "mixed-sizes/b/odd.png: image is 5x4 (HxW) but .*mixed-sizes/a/first.png is 3x4; use --resize HxW" \
    convert folder "$F/mixed-sizes" -o e.st
  convert folder "$F/mixed-sizes" --resize 8x6 -o resized.st
  [ "$(m resized.st '[d[k] for k in ("size","channels","height","width")]')" = "[2, 1, 8, 6]" ] || fail "--resize"
  expect_fail 2 "--resize 8: expected HxW" convert folder "$F/mixed-sizes" --resize 8 -o e.st
  mkdir empty
  expect_fail 1 "empty: no class subfolders" convert folder empty -o e.st
  [ ! -e e.st ] || fail "a failed folder convert left an output file"
}

# --- list ------------------------------------------------------------------
# A list of `path label` lines gives the images and labels of the same files
# read as a folder, in chunks of any size; and from standard output alike.
test_list() {
  printf 'cat/a.png 0\n\ncat/b.PNG  0\r\ndog/c.bmp\t1\n' > list.txt
  printf 'cat\ndog\n' > names.txt
  convert folder "$F/tiny-folder" --resize 6x5 --channels 3 -o folder.st
  convert list list.txt --root "$F/tiny-folder" --resize 6x5 --class-names names.txt -o list.st
  convert list list.txt --root "$F/tiny-folder" --resize 6x5 --class-names names.txt --batch 2 -o - > piped.st
  python3 - <<'PY' || fail "list and folder differ"
import os, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
a, b, c = (invkit_set.raw_tensors(f) for f in ("folder.st", "list.st", "piped.st"))
for k in ("images", "labels"):
    assert a[k] == b[k] == c[k], k
m = invkit_set.manifest("list.st")
assert m["class_names"] == ["cat", "dog"] and m["class_counts"] == [2, 1], m
PY
  convert list list.txt --root "$F/tiny-folder" --resize 4x4 --channels 1 -o numbered.st
  [ "$(m numbered.st '(d["class_names"], d["channels"], d["size"])')" = "(['0', '1'], 1, 3)" ] || fail "list defaults"
  printf 'cat/a.png 0\ncat/gone.png 1\n' > gone.txt
  expect_fail 1 "cat/gone.png" convert list gone.txt --root "$F/tiny-folder" --resize 4x4 -o e.st
  printf 'cat/a.png 0\ncat/b.PNG x1\n' > bad.txt
  expect_fail 1 'bad.txt line 2: the label "x1" is not a non-negative integer' \
    convert list bad.txt --root "$F/tiny-folder" --resize 4x4 -o e.st
  printf 'cat/a.png\n' > nolabel.txt
  expect_fail 1 'nolabel.txt line 1: expected `PATH LABEL`' convert list nolabel.txt --root "$F/tiny-folder" --resize 4x4 -o e.st
  echo cat > one.txt
  expect_fail 1 "one.txt: 1 class names, but the labels run 0..1 (2 classes)" \
    convert list list.txt --root "$F/tiny-folder" --resize 4x4 --class-names one.txt -o e.st
  expect_fail 2 "list needs --resize HxW" convert list list.txt --root "$F/tiny-folder" -o e.st
  [ ! -e e.st ] || fail "a failed list convert left an output file"
}

# --- export ----------------------------------------------------------------
test_export() {
  idx_t
  idx_fashion
  convert export f.st --to-dir out
  [ "$(cd out && find . -type f | sort | tr '\n' ' ')" = \
    "./Pullover/0.png ./Pullover/5.png ./T-shirt_top/1.png ./T-shirt_top/4.png ./Trouser/2.png ./Trouser/3.png ./classes.txt " ] ||
    fail "export layout: $(cd out && find . | sort | tr '\n' ' ')"
  [ "$(ls -d out/*/ | wc -l)" -eq 10 ] || fail "export: one folder per class"
  [ "$(head -3 out/classes.txt)" = "$(printf 'T-shirt_top\tT-shirt/top\nTrouser\nPullover')" ] ||
    fail "export: classes.txt $(cat out/classes.txt)"
  [ "$(png_size out/Pullover/0.png)" = "4x3" ] || fail "export image size"
  expect_fail 1 "out: folder exists and is not empty (use --force to replace it)" convert export t.st --to-dir out
  [ -e out/Pullover/0.png ] || fail "a refused export touched the old folder"
  convert export t.st --to-dir out --force
  [ "$(ls out | tr '\n' ' ')" = "0 1 2 classes.txt " ] || fail "export --force"
  [ ! -e out.tmp ] && [ ! -e out.old ] || fail "export left out.tmp or out.old"
}

# Contact sheet: 3 classes × 2 per class of 3×4 images, 2 px padding.
test_sheet() {
  idx_t
  cifar10
  convert export t.st --sheet sheet.png --per-class 2
  [ "$(png_size sheet.png)" = "14x17" ] || fail "sheet size $(png_size sheet.png)"
  convert export c10.st --sheet c10.png
  [ "$(png_size c10.png)" = "342x342" ] || fail "default --per-class 10: $(png_size c10.png)"
  expect_fail 2 "export needs --to-dir DIR and/or --sheet" convert export t.st
  expect_fail 1 "no-such.st: cannot open" convert export no-such.st --sheet s.png
  [ ! -e s.png ] || fail "failed export left a sheet"
}

# Round trip: an exported folder reads back with the same classes, and the
# same images in the same order within each class (names "0" "1" "2" sort as
# the labels do), so the contact sheets are the same bytes.
test_round-trip() {
  idx_t
  convert export t.st --sheet sheet.png --per-class 2
  convert export t.st --to-dir back
  convert folder back -o back.st
  [ "$(m back.st '(d["class_names"], d["class_counts"])')" = "(['0', '1', '2'], [2, 2, 2])" ] ||
    fail "round trip classes"
  convert export back.st --sheet back.png --per-class 2
  cmp -s sheet.png back.png || fail "round trip: contact sheets differ"
  # From a pipe, folder and sheet at once: the same files.
  convert export - --to-dir piped --sheet piped.png --per-class 2 <t.st
  cmp -s sheet.png piped.png || fail "export from a pipe: contact sheets differ"
  diff -r back piped >/dev/null || fail "export from a pipe: folders differ"
}

# Round trip of named classes whose folders sort another way (Fashion-MNIST:
# "T-shirt/top" is written to T-shirt_top, and Pullover sorts first):
# classes.txt brings back the order and the names.
test_named-round-trip() {
  idx_fashion
  convert export f.st --to-dir fm
  convert folder fm -o fm.st
  [ "$(m fm.st '(d["class_names"], d["class_counts"])')" = "$(m f.st '(d["class_names"], d["class_counts"])')" ] ||
    fail "named round trip: $(m fm.st '(d["class_names"], d["class_counts"])')"
  # Without classes.txt the folders are sorted, and the empty class folders of
  # this export (7 classes have no rows) are an error.
  rm fm/classes.txt
  expect_fail 1 "fm/Ankle_boot: no images (.png, .jpg, .jpeg, .bmp) in class folder" convert folder fm -o e.st
  # classes.txt errors: a folder it does not list, a folder that is not there.
  printf 'Pullover\nTrouser\n' >fm/classes.txt
  expect_fail 1 "fm/Ankle_boot: class folder not listed in fm/classes.txt" convert folder fm -o e.st
  printf 'Pullover\nNoSuch\n' >fm/classes.txt
  expect_fail 1 'fm/classes.txt line 2: class folder "NoSuch" does not exist' convert folder fm -o e.st
  [ ! -e e.st ] || fail "a failed folder convert left an output file"
}

# --- gzip members (issue 13): every one, as gzip -d reads them ----------------
test_gzip() {
  idx_raw
  python3 - "$F" <<'PY'
import gzip, sys
F = sys.argv[1]
def gz(b): return gzip.compress(b, mtime=0)
rec = open(F + "/tiny-cifar10.bin", "rb").read()     # 3 records: labels 7, 0, 9
four = rec + rec[:3073]                               # 4 records: 7, 0, 9, 7
open("two-members.bin.gz", "wb").write(gz(four[:2 * 3073]) + gz(four[2 * 3073:]))
idx = open(F + "/tiny-images.idx", "rb").read()
open("two-members-images.idx.gz", "wb").write(gz(idx[:10]) + gz(idx[10:]))  # cut inside the header
open("garbage-after.idx.gz", "wb").write(gz(idx) + b"junk")
open("zeros-after.idx.gz", "wb").write(gz(idx) + bytes(100))
PY
  [ "$(gzip -dc two-members.bin.gz | wc -c)" -eq $((4 * 3073)) ] || fail "fixture: gzip -d reads 4 records"
  convert cifar10 two-members.bin.gz -o gz4.st
  [ "$(m gz4.st '(d["size"], d["class_counts"][7], d["class_counts"][0])')" = "(4, 2, 1)" ] ||
    fail "two gzip members: not all 4 CIFAR records"
  convert idx two-members-images.idx.gz "$F/tiny-labels.idx" -o gz2.st
  cmp -s <(tail -c 120 gz2.st) <(tail -c 120 raw.st) || fail "a two-member IDX .gz differs from the raw file"
  expect_fail 1 "garbage-after.idx.gz: 4 bytes of trailing data after gzip member 1 (at byte [0-9]*), expected another gzip member or the end of the file" \
    convert idx garbage-after.idx.gz "$F/tiny-labels.idx" -o e.st
  expect_fail 1 "zeros-after.idx.gz: 100 bytes of trailing data after gzip member 1" \
    convert idx zeros-after.idx.gz "$F/tiny-labels.idx" -o e.st
  python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); open("cut-second.bin.gz", "wb").write(b[:-5])' two-members.bin.gz
  expect_fail 1 "cut-second.bin.gz: truncated gzip data (member 2 ends early)" convert cifar10 cut-second.bin.gz -o e.st
  [ ! -e e.st ] || fail "a failed gzip convert left an output file"
}

# --- text that is not UTF-8 (issue 13) -----------------------------------------
# Paths: an input and an output named with a Latin-1 byte work, and the
# history stores them escaped, listed in escaped_arguments, reversibly.
test_latin1-paths() {
  idx_t
  cp "$F/tiny-images.idx" "$L-images.idx"
  convert idx "$L-images.idx" "$F/tiny-labels.idx" -o "$L.st"
  [ -s "$L.st" ] || fail "non-UTF-8 output path"
  inspect --json "$L.st" >latin1-path.json
  python3 - "$F" <<'PY' || fail "non-UTF-8 arguments in the history: $(cat latin1-path.json)"
import json, re, sys
e = json.load(open("latin1-path.json"))["manifest"]["history"][-1]
assert e["arguments"] == ["idx", "caf\\xe9-images.idx", sys.argv[1] + "/tiny-labels.idx", "-o", "caf\\xe9.st"], e
assert e["escaped_arguments"] == [1, 4], e
def unescape(s):  # as docs/formats.md gives it
    return re.sub(rb"\\(\\|x([0-9a-f]{2}))", lambda m: b"\\" if m[1] == b"\\" else bytes.fromhex(m[2].decode()), s.encode())
argv = [unescape(a) if i in e.get("escaped_arguments", []) else a.encode() for i, a in enumerate(e["arguments"])]
assert argv[1] == b"caf\xe9-images.idx" and argv[4] == b"caf\xe9.st", argv
PY
  # A UTF-8 history has no escaped_arguments.
  [ "$(m t.st '"escaped_arguments" in d["history"][-1]')" = False ] || fail "escaped_arguments on a UTF-8 history"
}

# A class folder named in Latin-1: an error naming the folder and the byte;
# --names-encoding latin1 converts the names.
test_latin1-folder() {
  mkdir -p "lat/$L" lat/dog
  cp "$F"/tiny-folder/cat/* "lat/$L/"
  cp "$F"/tiny-folder/dog/* lat/dog/
  expect_fail 1 "convert: error: lat/caf\\\\xe9: class folder name is not valid UTF-8: byte 0xe9 at offset 3 (\"caf\\\\xe9\"); convert it to UTF-8, or give --names-encoding latin1 if the names are Latin-1" \
    convert folder lat -o e.st
  convert folder lat --names-encoding latin1 -o lat.st
  [ "$(m lat.st '(d["class_names"], d["class_counts"])')" = "(['café', 'dog'], [2, 1])" ] || fail "--names-encoding latin1 folder"
  [ ! -e e.st ] || fail "a failed convert left an output file"
}

# A --class-names file in Latin-1: an error naming the file, the line and the byte.
test_latin1-names() {
  printf 'zero\ncaf\xe9\ntwo\n' >names-latin1.txt
  expect_fail 1 "convert: error: names-latin1.txt: line 2 is not valid UTF-8: byte 0xe9 at offset 3" \
    convert idx "$F/tiny-images.idx" "$F/tiny-labels.idx" --class-names names-latin1.txt -o e.st
  convert idx "$F/tiny-images.idx" "$F/tiny-labels.idx" --class-names names-latin1.txt --names-encoding latin1 -o nl.st
  [ "$(m nl.st 'd["class_names"]')" = "['zero', 'café', 'two']" ] || fail "--names-encoding latin1 names file"
  expect_fail 2 "convert: error: --names-encoding cp1252: expected utf8 or latin1" \
    convert idx "$F/tiny-images.idx" "$F/tiny-labels.idx" --class-names names-latin1.txt --names-encoding cp1252 -o e.st
  [ ! -e e.st ] || fail "a failed convert left an output file"
}

# Files from other editors: a byte-order mark and CRLF (Windows), CR (old Mac), UTF-16 (Notepad's "Unicode").
test_text-files() {
  printf '\xef\xbb\xbfzero\r\none\r\ntwo\r\n' >names-bom-crlf.txt
  printf 'zero\rone\rtwo\r' >names-cr.txt
  printf '\xff\xfez\0e\0r\0o\0\r\0\n\0o\0n\0e\0\r\0\n\0t\0w\0o\0' >names-utf16.txt
  for f in names-bom-crlf.txt names-cr.txt names-utf16.txt; do
    convert idx "$F/tiny-images.idx" "$F/tiny-labels.idx" --class-names $f -o n-$f.st
    [ "$(m n-$f.st 'd["class_names"]')" = "['zero', 'one', 'two']" ] || fail "$f: $(m n-$f.st 'd["class_names"]')"
  done
  [ ! -e e.st ] || fail "a failed convert left an output file"
}

# --- refusing a terminal -----------------------------------------------------
# script(1) runs the command with a pseudo-terminal as its stdout.
test_terminal() {
  command -v script >/dev/null || skip "no script(1)"
  out=$(script -qec "convert idx '$F/tiny-images.idx' '$F/tiny-labels.idx' -o -" /dev/null </dev/null || true)
  echo "$out" | grep -q "convert: error: refusing to write binary data to a terminal" || fail "terminal not refused: $out"
}

# --- the real Fashion-MNIST test set, when installed -------------------------
test_fashion-mnist() {
  D=/usr/share/datasets/fashion-mnist
  [ -e "$D/t10k-images-idx3-ubyte.gz" ] || skip "$D not installed"
  convert idx "$D/t10k-images-idx3-ubyte.gz" "$D/t10k-labels-idx1-ubyte.gz" -o test.st
  [ "$(m test.st '(d["size"], d["class_counts"])')" = "(10000, [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000])" ] ||
    fail "fashion-mnist t10k counts"
  [ "$(m test.st '(d["class_names"][9], d["height"], d["width"])')" = "('Ankle boot', 28, 28)" ] ||
    fail "fashion-mnist t10k names"
}

run_tests "$@"
