# The whole pipeline of Makefile.examples in miniature: a synthetic
# Fashion-MNIST-like set, tiny models, every target down to the report; every
# file of the layout appears, every manifest names the tools that made it in
# order, the report has a row per method, and a second run does nothing.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LIB"
[ -n "${SRC:-}" ] || SRC=$(cd "$HERE/../.." && pwd)

methods="erm drs drs-git ldam-drw ldam-drw-git oracle"
settings=(-f "$SRC/Makefile.examples" BIN="$BIN" RUNS=runs FMNIST=idx SEEDS=0 TRANSFORMS="rot bg"
  ARCH=cnn EPOCHS=2 WARMUP=1 STEP1=1 STEP2=2 CLS_FLAGS="--batch 32" LT_MAX=40 LT_MIN=4 VAL_PER_CLASS=6
  GEN_ITERS=4 GEN_FLAGS="--gen-dim 8 --style-dim 2 --mlp-dim 16 --res-blocks 1 --dis-dim 8 --dis-layers 2"
  PER_CLASS=2 SAMPLES=2 THREADS=1)

# Every target down to the report, then its files, their histories, the
# settings that reached the tools, the report's rows, and what a second make
# does.
test_make-all() {
  python3 "$HERE/make_idx.py" idx --train 60 --test 20 --seed 1
  make -j2 "${settings[@]}" all >make.log 2>&1 || fail "make all: $(tail -20 make.log)"

  # Every file of the layout.
  d=runs/seed-0
  files="runs/report.md"
  for f in fmnist test train val lt val-6; do files+=" $d/data/$f.st"; done
  for t in rot bg; do
    files+=" runs/report-$t-ekld.svg $d/$t/gen.st $d/$t/ekld.json $d/$t/ekld.svg"
    for f in lt val test; do files+=" $d/data/$t-$f.st"; done
    for m in $methods; do files+=" $d/$t/$m.st $d/$t/$m.st.last $d/$t/$m.json $d/$t/$m.jsonl"; done
  done
  for f in $files; do [ -s "$f" ] || fail "missing: $f"; done
  [ -z "$(find runs -name '*.tmp')" ] || fail "leftover temporary files: $(find runs -name '*.tmp')"

  # Each manifest's history: the tools that made the file, in order.
  history() { json "$1" '" ".join(h["tool"] for h in d["manifest"]["history"])'; }
  expect_history() {
    local got; got=$(history "$1")
    [ "$got" = "$2" ] || fail "$1: history is '$got', expected '$2'"
  }
  expect_history $d/data/fmnist.st "convert"
  expect_history $d/data/test.st "convert"
  expect_history $d/data/val.st "convert resample"
  expect_history $d/data/lt.st "convert resample resample"
  for t in rot bg; do
    expect_history $d/data/$t-lt.st "convert resample resample augment"
    expect_history $d/data/$t-val.st "convert resample resample augment"
    expect_history $d/data/$t-test.st "convert augment"
    expect_history $d/$t/gen.st "convert resample resample augment train-generator"
    for m in $methods; do
      expect_history $d/$t/$m.st "convert resample resample augment train-classifier"
    done
  done

  # The settings reached the tools: each method's options, eKLD of all six.
  python3 - "$d" <<'PY' || fail "settings"
import json, subprocess, sys
d = sys.argv[1]
want = {"erm": ["--rule", "erm"], "drs": ["--rule", "drs"],
        "drs-git": ["--rule", "drs", "--generator", d + "/{t}/gen.st", "--gen-delayed"],
        "ldam-drw": ["--loss", "ldam", "--rule", "drw"],
        "ldam-drw-git": ["--loss", "ldam", "--rule", "drw", "--generator", d + "/{t}/gen.st", "--gen-delayed"],
        "oracle": ["--rule", "erm", "--augment", "{spec}"]}
specs = {"rot": "rotate(-180,180)", "bg": "background(0,100)"}
for t, spec in specs.items():
    for m, flags in want.items():
        m_json = json.load(open("%s/%s/%s.json" % (d, t, m)))
        assert m_json["epochs"] == 2 and "accuracy" in m_json["test"], (t, m, m_json)
        man = json.loads(subprocess.check_output(["inspect", "--json", "%s/%s/%s.st" % (d, t, m)]))["manifest"]
        args = man["history"][-1]["arguments"]
        flags = [f.format(t=t, spec=spec) for f in flags]
        assert any(args[i:i + len(flags)] == flags for i in range(len(args))), (t, m, args)
        assert args[args.index("--val") + 1].endswith("/%s-val.st" % t), args
        assert man["arch"] == "cnn" and man["training"]["epochs"] == 2, man["training"]
    e = json.load(open("%s/%s/ekld.json" % (d, t)))
    assert [c["checkpoint"] for c in e["checkpoints"]] == [m + ".st" for m in want], e["checkpoints"]
    assert e["settings"]["transform"] == spec and e["settings"]["samples"] == 2, e["settings"]
    for c in e["checkpoints"]:
        assert [k["images"] for k in c["classes"]] == [2] * 10, c
    g = json.loads(subprocess.check_output(["inspect", "--json", "%s/%s/gen.st" % (d, t)]))["manifest"]
    assert g["iteration"] == 4, g["iteration"]
PY

  # The report: a table row (first cell the method) per method and transform.
  python3 - <<'PY' || fail "report.md: $(cat runs/report.md)"
import re
rows = [l for l in open("runs/report.md") if l.startswith("|")]
first = [re.sub(r"[`*_ ]", "", r.split("|")[1]).lower() for r in rows]
for m in "erm drs drs-git ldam-drw ldam-drw-git oracle".split():
    assert first.count(m) >= 2, (m, first)
PY

  # Nothing left to do; one checkpoint remakes alone and nothing else is touched.
  make -q "${settings[@]}" all || fail "a second make would do work: $(make -n "${settings[@]}" all | head)"
  rm $d/bg/drs.json
  planned=$(make -n "${settings[@]}" $d/bg/drs.st)
  [ "$(grep -c 'train-classifier' <<<"$planned")" -eq 1 ] && grep -q -- '-o runs/seed-0/bg/drs.st' <<<"$planned" \
    || fail "remaking one checkpoint plans: $planned"
  [ "$(grep -cF "$BIN/" <<<"$planned")" -eq 1 ] || fail "remaking one checkpoint runs other tools: $planned"

  # RESUME=1 continues an interrupted classifier from its .last checkpoint.
  grep -q -- "--resume runs/seed-0/bg/drs.st.last" <<<"$(make -n "${settings[@]}" RESUME=1 $d/bg/drs.st)" \
    || fail "RESUME=1 does not resume"
}

# The CIFAR-10-LT target says what it needs.
test_cifar10-lt() {
  rc=0
  make "${settings[@]}" cifar10-lt >cifar.out 2>&1 || rc=$?
  [ "$rc" -ne 0 ] && grep -q "CIFAR10_DIR" cifar.out || fail "cifar10-lt without CIFAR10_DIR: rc $rc, $(cat cifar.out)"
}

run_tests "$@"
