# scripts/paper-run's listing of the protocol: what is done, and each
# chunk's wall and CPU time from its chunk.json (no training here).
source "$LIB"
paper_run() { python3 "$SRC/scripts/paper-run" --results results "$@"; }

# chunk.json with the runs given as "METHODS:WALL_S:CPU_S" (METHODS comma-separated),
# under RESULTS (default results).
chunk() {
  local dir=${RESULTS:-results}/seed-$1/$2; shift 2
  mkdir -p "$dir"
  python3 - "$dir" "$@" <<'EOF'
import json, sys
d, runs = sys.argv[1], []
for spec in sys.argv[2:]:
    methods, wall, cpu = spec.split(":")
    runs.append({"methods": methods.split(","), "wall_s": float(wall), "cpu_s": float(cpu), "jobs": 2,
                 "started": "2026-12-01T00:00:00Z", "machine": {"cpu": "Test CPU", "cores": 2, "device": "cpu"}})
    for m in methods.split(","):
        open(f"{d}/{m}.json", "w").write("{}")
ckpts = sorted({m for r in runs for m in r["methods"]})
json.dump({"checkpoints": [{"checkpoint": f"runs/{m}.st"} for m in ckpts]}, open(f"{d}/ekld.json", "w"))
json.dump({"runs": runs}, open(f"{d}/chunk.json", "w"))
EOF
}

test_list_times() {
  # seed 0, rot: ERM and DRS in two parts (stopped, resumed), then the other
  # four methods in a run of their own; seed 1, rot: not run.
  chunk 0 rot erm,drs:600:1200 erm,drs:1200:1800 erm,drs,drs-git,ldam-drw,ldam-drw-git,oracle:3000:6000
  paper_run --list 0/rot/erm,drs 0/rot/erm,drs,drs-git,ldam-drw,ldam-drw-git,oracle 1/rot/erm,drs >out.md
  grep -qx '| 0/rot/erm,drs | done (2 parts) | 30.0 | 50.0 | 2 | Test CPU, 2 cores, cpu | 2026-12-01T00:00:00Z |' out.md \
    || fail "resumed chunk: $(cat out.md)"
  grep -qx '| 0/rot/erm,drs,drs-git,ldam-drw,ldam-drw-git,oracle | done | 50.0 | 100.0 | 2 | Test CPU, 2 cores, cpu | 2026-12-01T00:00:00Z |' out.md \
    || fail "six-method chunk: $(cat out.md)"
  grep -qx '| 1/rot/erm,drs | to do | | | | | |' out.md || fail "chunk not run: $(cat out.md)"
  [ "$(wc -l <out.md)" -eq 5 ] || fail "expected a header, a rule and 3 rows: $(cat out.md)"
}

test_list_not_measured() {
  # ekld.json lacks DRS: the chunk is to do, though chunk.json has its time.
  chunk 2 bg erm,drs:600:600
  python3 -c "import json; json.dump({'checkpoints': [{'checkpoint': 'erm.st'}]}, open('results/seed-2/bg/ekld.json', 'w'))"
  paper_run --list 2/bg/erm,drs | grep -q '^| 2/bg/erm,drs | to do | 10.0 |' || fail "$(paper_run --list 2/bg/erm,drs)"
}

test_list_stopped_part() {
  # A part stopped before the chunk's end has a wall time but no CPU time:
  # the CPU column is then a lower bound.
  chunk 3 dil erm,drs:900:1500
  python3 - <<'PY'
import json
p = "results/seed-3/dil/chunk.json"
d = json.load(open(p))
d["runs"].insert(0, {"methods": ["erm", "drs"], "started": "2026-11-30T00:00:00Z", "wall_s": 300.0, "cpu_s": None,
                     "jobs": 2, "stopped": True})
json.dump(d, open(p, "w"))
PY
  paper_run --list 3/dil/erm,drs | grep -qx '| 3/dil/erm,drs | done (2 parts) | 20.0 | >= 25.0 | 2 | Test CPU, 2 cores, cpu | 2026-11-30T00:00:00Z |' \
    || fail "$(paper_run --list 3/dil/erm,drs)"
}

test_failed_run_keeps_its_part() {
  # A chunk whose make fails (here: tools that are not there) leaves its
  # part, with its wall time, in RUNS/seed-S-T.parts.json; a second try
  # adds its own.
  mkdir -p build/bin && printf '#!/bin/sh\nexit 1\n' >build/bin/train-classifier && chmod +x build/bin/train-classifier
  for try in 1 2; do
    rc=0
    paper_run --runs runs --build build 0/rot/erm 2>err || rc=$?
    [ "$rc" -eq 1 ] && grep -q "paper-run: error: make failed" err || fail "try $try: exit $rc: $(cat err)"
  done
  python3 - <<'PY' || fail "$(cat runs/seed-0-rot.parts.json)"
import json
parts = json.load(open("runs/seed-0-rot.parts.json"))
assert len(parts) == 2 and all(p["methods"] == ["erm"] and p["stopped"] and p["wall_s"] >= 0 and p["jobs"] == 1
                               for p in parts), parts
PY
  [ ! -e results/seed-0/rot/chunk.json ] || fail "a failed chunk wrote chunk.json"
}

test_finished_run_takes_its_stopped_parts() {
  # The invocation that finishes a chunk gets the stopped parts of its own
  # methods (for chunk.json); another method set's stay in the file.
  mkdir runs
  echo '[{"methods": ["erm"], "started": "a", "wall_s": 60.0, "jobs": 1, "stopped": true},
         {"methods": ["erm", "drs"], "started": "b", "wall_s": 90.0, "jobs": 2, "stopped": true}]' >runs/seed-0-rot.parts.json
  python3 - "$SRC/scripts/paper-run" <<'PY' || fail "$(cat runs/seed-0-rot.parts.json 2>&1)"
import importlib.machinery, importlib.util, json, sys
loader = importlib.machinery.SourceFileLoader("paper_run", sys.argv[1])
pr = importlib.util.module_from_spec(importlib.util.spec_from_loader("paper_run", loader))
loader.exec_module(pr)
parts = pr.Parts("runs", 0, "rot", ["erm", "drs"], 2)
mine = parts.finish(True)
assert [p["started"] for p in mine] == ["b"], mine
left = json.load(open("runs/seed-0-rot.parts.json"))
assert [p["started"] for p in left] == ["a"], left
PY
}

# A rerun of a whole chunk from nothing, made only to time it: its time is
# recorded once its results equal the committed ones, and --list shows it
# in place of the first run's; a rerun whose results differ is refused.
test_retimed() {
  six=erm,drs,drs-git,ldam-drw,ldam-drw-git,oracle
  chunk 0 rot "$six:8000:14000"
  RESULTS=rerun chunk 0 rot "$six:4500:8400"
  cp results/seed-0/rot/chunk.json before.json
  echo '{"test": 1}' >rerun/seed-0/rot/erm.json
  expect_fail 1 "0/rot/$six: the rerun's erm.json differ from" paper_run --retimed-from rerun "0/rot/$six"
  cmp -s before.json results/seed-0/rot/chunk.json || fail "chunk.json changed after a refusal"
  echo '{}' >rerun/seed-0/rot/erm.json
  paper_run --retimed-from rerun "0/rot/$six" 2>err.txt || fail "$(cat err.txt)"
  grep -q "retimed at 75.0 min" err.txt || fail "$(cat err.txt)"
  paper_run --list "0/rot/$six" | grep -qx "| 0/rot/$six | done (retimed) | 75.0 | 140.0 | 2 | Test CPU, 2 cores, cpu | 2026-12-01T00:00:00Z |" \
    || fail "$(paper_run --list "0/rot/$six")"
  [ "$(python3 -c 'import json; d = json.load(open("results/seed-0/rot/chunk.json")); print(len(d["runs"]), len(d["retimed"]))')" = "1 1" ] \
    || fail "the first run must stay in runs: $(cat results/seed-0/rot/chunk.json)"
}

# Two CPUs of one model name ran a chunk 3x apart: the listing names the
# widest vector unit that chunk.json recorded.
test_list_vector_units() {
  chunk 4 bg erm,drs:1200:2400
  python3 - <<'PY'
import json
p = "results/seed-4/bg/chunk.json"
d = json.load(open(p))
d["runs"][0]["machine"].update(cpu_family_model="25/17", vector_units=["AVX2", "AVX-512", "AVX-512 BF16"])
json.dump(d, open(p, "w"))
PY
  paper_run --list 4/bg/erm,drs | grep -qx '| 4/bg/erm,drs | done | 20.0 | 40.0 | 2 | Test CPU (AVX-512 BF16), 2 cores, cpu | 2026-12-01T00:00:00Z |' \
    || fail "$(paper_run --list 4/bg/erm,drs)"
}

test_bad_chunk() {
  expect_fail 1 "paper-run: error: chunk '2/xyz/erm'" paper_run --list 2/xyz/erm
  expect_fail 1 "paper-run: error: chunk 'two/rot/erm'" paper_run --list two/rot/erm
}

run_tests "$@"
