# Data-parallel training (issue 19): 2 local ranks under Gloo, started as
# torchrun starts them (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
# MASTER_ADDR, MASTER_PORT). The ranks agree bit for bit (checked by the
# tools at every checkpoint), a BatchNorm-free model trains as one process
# does, resume and SIGTERM behave as in one process, and a missing or dead
# rank ends the others with an error naming it. Skips where the build has
# no Gloo.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$LIB"
mk() { python3 "$HERE/make_classifier_set.py" "$@"; }

quick=(--arch cnn --epochs 4 --warmup 1 --step1 3 --step2 4 --batch 16 --lr 0.05 --seed 1 --threads 1 --quiet)
TINY0=(--gen-dim 8 --style-dim 2 --mlp-dim 16 --res-blocks 1 --dis-dim 8 --dis-layers 2 --seed 3 --threads 1 -q)
TINY=("${TINY0[@]}" --batch 5)

setup() {
  mk train.st --counts 40,40,40,30 --seed 1  # 150 rows: a short last batch of 6
  mk val.st --counts 8,8,8,8 --seed 2
}

# A TCP port free now on 127.0.0.1.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_ranks N CMD...: N ranks of CMD in the background, as torchrun starts
# them on one node (LAUNCHER=srun: as srun does, with the MASTER_ADDR that
# scripts/slurm/ddp.sbatch exports); rank R's stdout in rR.out, stderr in
# rR.err; PIDS[R] its process. RANKS (optional) lists the ranks to start (a
# missing rank's test).
start_ranks() {
  local n=$1 r; shift
  PORT=$(free_port)
  PIDS=()
  for r in ${RANKS:-$(seq 0 $((n - 1)))}; do
    if [ "${LAUNCHER:-torchrun}" = srun ]; then
      SLURM_NTASKS=$n SLURM_PROCID=$r SLURM_LOCALID=$r SLURM_NODEID=0 SLURM_STEP_TASKS_PER_NODE=$n \
        MASTER_ADDR=127.0.0.1 MASTER_PORT=$PORT "$@" >"r$r.out" 2>"r$r.err" &
    else
      WORLD_SIZE=$n RANK=$r LOCAL_RANK=$r LOCAL_WORLD_SIZE=$n MASTER_ADDR=127.0.0.1 MASTER_PORT=$PORT \
        "$@" >"r$r.out" 2>"r$r.err" &
    fi
    PIDS[r]=$!
  done
}

# wait_ranks: RC[R] is rank R's exit status.
wait_ranks() {
  local r
  RC=()
  for r in "${!PIDS[@]}"; do
    RC[r]=0
    wait "${PIDS[r]}" || RC[r]=$?
  done
  if grep -qs "built without Gloo" r*.err; then skip "this build has no Gloo"; fi
}

# ranks N CMD...: runs N ranks to the end; each must succeed.
ranks() {
  local r
  start_ranks "$@"
  wait_ranks
  for r in "${!RC[@]}"; do
    [ "${RC[r]}" -eq 0 ] || fail "rank $r of $*: exit ${RC[r]}: $(cat "r$r.err")"
  done
}

# same_tensors A B [TOL]: every tensor of A equals B's, byte for byte, or
# within TOL (absolute, for floats).
same_tensors() {
  python3 - "$1" "$2" "${3:-0}" <<'PY'
import os, struct, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
a, b, tol = invkit_set.raw_tensors(sys.argv[1]), invkit_set.raw_tensors(sys.argv[2]), float(sys.argv[3])
assert a.keys() == b.keys(), (a.keys() ^ b.keys())
if tol == 0:
    bad = [k for k in a if a[k] != b[k]]
else:
    def floats(raw):
        return struct.unpack("<%df" % (len(raw) // 4), raw)
    bad = [(k, max(abs(x - y) for x, y in zip(floats(a[k]), floats(b[k])))) for k in a
           if a[k] != b[k] and max(abs(x - y) for x, y in zip(floats(a[k]), floats(b[k]))) > tol]
assert not bad, bad[:5]
PY
}

# wait_for FILE: until FILE has a line (60 s at most); a build without Gloo
# skips (its ranks end at once, saying so).
wait_for() {
  for _ in $(seq 600); do
    [ -s "$1" ] && return 0
    if grep -qs "built without Gloo" r*.err; then skip "this build has no Gloo"; fi
    sleep 0.1
  done
  fail "$1 never came"
}

# stop_rank1 PATTERN: once sig.jsonl has a line, SIGTERM to rank 1 alone;
# both ranks must exit 1, their messages matching PATTERN at the same point.
stop_rank1() {
  wait_for sig.jsonl
  kill -TERM "${PIDS[1]}"
  wait_ranks
  [ "${RC[0]}" -eq 1 ] && [ "${RC[1]}" -eq 1 ] || fail "exits ${RC[*]}: $(cat r0.err r1.err)"
  m0=$(grep -o "$1" r0.err) || fail "rank 0: $(cat r0.err)"
  m1=$(grep -o "$1" r1.err) || fail "rank 1: $(cat r1.err)"
  [ "$m0" = "$m1" ] || fail "ranks stopped apart: '$m0', '$m1'"
}

# Two ranks: rank 0 reports, logs and writes; rank 1 only trains; their
# states were checked identical at each checkpoint (else they fail). A
# weighted loss (reweight, LDAM), uneven slices of the short last batch.
test_classifier() {
  ranks 2 train-classifier train.st --val val.st "${quick[@]}" --rule reweight --loss ldam -o c.st --log log.jsonl
  grep -q "^train-classifier: torchrun launch: rank 0 of 2 (local 0 of 2), store 127.0.0.1:$PORT; 1 thread$" r0.err ||
    fail "rank 0's launch line: $(cat r0.err)"
  grep -q "^train-classifier: torchrun launch: rank 1 of 2 (local 1 of 2)" r1.err || fail "rank 1's launch line: $(cat r1.err)"
  [ "$(wc -l <r0.err)" -eq 1 ] && [ "$(wc -l <r1.err)" -eq 1 ] || fail "more on stderr: $(cat r0.err r1.err)"
  [ -s r0.out ] && [ ! -s r1.out ] || fail "stdout: rank 0 '$(cat r0.out)', rank 1 '$(cat r1.out)'"
  python3 -c 'import json; r = json.load(open("r0.out")); assert r["epochs"] == 4 and r["val"]["accuracy"] >= 0.9, r' ||
    fail "report: $(cat r0.out)"
  [ "$(wc -l <log.jsonl)" -eq 4 ] || fail "log: $(cat log.jsonl)"
  [ "$(json c.st.last 'd["manifest"]["distributed"]["ranks"], d["manifest"]["epoch"]')" = "2 4" ] ||
    fail "manifest of c.st.last"
}

# Two ranks on two GPUs over NCCL (skipped with fewer GPUs, or a build
# without NCCL): each rank takes the GPU of its local rank, and the states
# are checked identical at each checkpoint, as under Gloo (the gradients'
# agreement with one process is DistNccl.TwoGpusSumTheGlobalBatch's).
test_two_gpus() {
  gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
  [ "$gpus" -ge 2 ] || skip "fewer than 2 GPUs"
  start_ranks 2 train-classifier train.st --val val.st "${quick[@]}" --device cuda -o c.st
  wait_ranks
  if grep -qs "built without NCCL" r*.err; then skip "this build has no NCCL"; fi
  [ "${RC[0]}" -eq 0 ] && [ "${RC[1]}" -eq 0 ] || fail "exits ${RC[*]}: $(cat r0.err r1.err)"
  grep -q "rank 0 of 2 (local 0 of 2), .*; cuda:0$" r0.err || fail "rank 0's launch line: $(cat r0.err)"
  grep -q "rank 1 of 2 (local 1 of 2), .*; cuda:1$" r1.err || fail "rank 1's launch line: $(cat r1.err)"
  [ -s r0.out ] && [ ! -s r1.out ] || fail "stdout: rank 0 '$(cat r0.out)', rank 1 '$(cat r1.out)'"
  [ "$(json c.st.last 'd["manifest"]["distributed"]["ranks"]')" = 2 ] || fail "manifest of c.st.last"
}

# The MUNIT generator has no BatchNorm: 2 ranks on halves of each batch of
# 5 (rows 0-1 and 2-4) compute the whole batch's gradients. After one
# iteration Adam's moments are those gradients (exp_avg = (1 - beta1) g,
# exp_avg_sq = (1 - beta2) g^2), for both networks: they must agree with one
# process's to 1e-5, and so must the losses. (The parameters are compared
# bit for bit across ranks by the tool, not here against one process: Adam's
# first step is lr * sign(g), and some gradients are rounding noise around
# 0, e.g. those of convolution biases under InstanceNorm.)
test_generator_equals_one_process() {
  python3 "$HERE/make_generator_set.py" set.st 16 12
  train-generator set.st -o one.st --iters 1 "${TINY[@]}" --log one.jsonl
  ranks 2 train-generator set.st -o two.st --iters 1 "${TINY[@]}" --log two.jsonl
  [ "$(json two.st 'd["manifest"]["distributed"]["ranks"]')" = 2 ] || fail "manifest"
  [ ! -e r1.out ] || [ ! -s r1.out ] || fail "rank 1 printed"
  python3 - <<'PY' || fail "2 ranks differ from 1 process"
import json, os, struct, sys
sys.path.insert(0, os.path.dirname(os.environ["LIB"]))
import invkit_set
a, b = invkit_set.raw_tensors("one.st"), invkit_set.raw_tensors("two.st")
floats = lambda raw: struct.unpack("<%df" % (len(raw) // 4), raw)
moments = [k for k in a if k.startswith("optimizer.") and k.endswith((".exp_avg", ".exp_avg_sq"))]
assert any(k.startswith("optimizer.gen.") for k in moments) and any(k.startswith("optimizer.dis.") for k in moments)
worst = max((max(abs(x - y) for x, y in zip(floats(a[k]), floats(b[k]))), k) for k in moments)
assert worst[0] <= 1e-5, worst
assert any(a[k] != b[k] for k in moments), "bit for bit equal: were the ranks used at all?"
one, two = json.load(open("one.jsonl")), json.load(open("two.jsonl"))
for k in ("dis", "gan", "recon_x", "recon_s", "recon_c", "total"):
    assert abs(one[k] - two[k]) <= 1e-5 * max(1, abs(one[k])), (k, one[k], two[k])
PY
  # Each rank needs a row of every batch.
  start_ranks 2 train-generator set.st -o x.st --iters 2 "${TINY0[@]}" --batch 1
  wait_ranks
  [ "${RC[0]}" -eq 2 ] && grep -q "error: --batch 1 is smaller than the 2 ranks" r0.err || fail "batch 1: $(cat r0.err)"
}

# train-generator: SIGTERM to rank 1 stops both after the same iteration;
# rank 0 saves; resumed under 2 ranks it ends where an uninterrupted 2-rank
# run ends, bit for bit.
test_generator_resume() {
  python3 "$HERE/make_generator_set.py" set.st 16 12
  start_ranks 2 train-generator set.st -o sig.st --iters 100000 "${TINY[@]}" --log sig.jsonl
  stop_rank1 "interrupted by SIGTERM on rank 1 at iteration [0-9]*"
  it=$(json sig.st 'd["manifest"]["iteration"]')
  ranks 2 train-generator set.st -o sig.st --resume sig.st --iters $((it + 2)) -q --threads 1
  ranks 2 train-generator set.st -o ref.st --iters $((it + 2)) "${TINY[@]}"
  same_tensors sig.st ref.st || fail "the resumed generator differs from an uninterrupted one"
}

# Resume: 2 + 2 epochs under 2 ranks equal 4 epochs under 2 ranks; a 2-rank
# checkpoint resumes in one process too.
test_resume() {
  aug=(--rule drs --flip --augment 'rotate(-20,20)')
  ranks 2 train-classifier train.st "${quick[@]}" "${aug[@]}" -o full.st
  ranks 2 train-classifier train.st "${quick[@]}" "${aug[@]}" -o part.st --epochs 2
  ranks 2 train-classifier train.st "${quick[@]}" "${aug[@]}" -o part.st --resume part.st.last
  same_tensors full.st.last part.st.last || fail "resumed 2-rank run differs from the uninterrupted one"
  cp part.st.last one.st.last
  train-classifier train.st "${quick[@]}" "${aug[@]}" -o one.st --epochs 5 --resume one.st.last >/dev/null
  [ "$(json one.st.last 'd["manifest"]["epoch"], "distributed" in d["manifest"]')" = "5 False" ] || fail "1-process resume"
}

# SIGTERM to rank 1 alone: both ranks stop on the same step, rank 0 saves,
# and the checkpoint resumes to what an uninterrupted run gives.
test_sigterm() {
  start_ranks 2 train-classifier train.st "${quick[@]}" --epochs 1000 -o sig.st --log sig.jsonl
  stop_rank1 "interrupted by SIGTERM on rank 1 at epoch [0-9]* step [0-9]*"
  grep -q "saved sig.st.last (continue with --resume sig.st.last)" r0.err || fail "message: $(cat r0.err)"
  epochs=$(json sig.st.last 'd["manifest"]["epoch"]')
  ranks 2 train-classifier train.st "${quick[@]}" -o sig.st --epochs $((epochs + 1)) --resume sig.st.last
  ranks 2 train-classifier train.st "${quick[@]}" -o ref.st --epochs $((epochs + 1))
  same_tensors sig.st.last ref.st.last || fail "the run resumed after SIGTERM differs from an uninterrupted one"
}

# A rank that never comes: the others end within the timeout, naming it.
test_missing_rank() {
  SECONDS=0
  RANKS=0 start_ranks 2 train-classifier train.st "${quick[@]}" --threads 0 -o x.st --dist-timeout 2
  wait_ranks
  [ "${RC[0]}" -eq 1 ] || fail "rank 0: exit ${RC[0]}: $(cat r0.err)"
  # --threads 0: the cores divided by the 2 ranks of this node.
  threads=$(( $(nproc) / 2 )); [ "$threads" -ge 1 ] || threads=1
  grep -q "store 127.0.0.1:$PORT; $threads thread" r0.err || fail "threads per rank: $(cat r0.err)"
  grep -q "^train-classifier: error: rank 0: rank 1 of 2 did not join within 2 s (store 127.0.0.1:$PORT; torchrun launch)$" r0.err ||
    fail "rank 0's message: $(cat r0.err)"
  # Rank 0, which serves the store, never comes.
  RANKS=1 start_ranks 2 train-classifier train.st "${quick[@]}" -o x.st --dist-timeout 2
  wait_ranks
  [ "${RC[1]}" -eq 1 ] || fail "rank 1: exit ${RC[1]}: $(cat r1.err)"
  grep -q "^train-classifier: error: rank 1 could not reach the rendezvous store at 127.0.0.1:$PORT within 2 s: rank 0, which serves it, has not started" r1.err ||
    fail "rank 1's message: $(cat r1.err)"
  [ "$SECONDS" -lt 40 ] || fail "took $SECONDS s with a timeout of 2 s"
  [ ! -e x.st ] && [ ! -e x.st.last ] || fail "a checkpoint was written"
}

# A rank that dies mid-run (SIGKILL: no checkpoint, no goodbye): the other
# ends at once with an error.
test_dead_rank() {
  SECONDS=0
  start_ranks 2 train-classifier train.st "${quick[@]}" --epochs 1000 -o d.st --log d.jsonl
  wait_for d.jsonl
  kill -KILL "${PIDS[1]}"
  wait_ranks
  [ "${RC[0]}" -eq 1 ] || fail "rank 0: exit ${RC[0]}"
  grep -q "^train-classifier: error: rank 0 of 2: .* failed: another rank closed its connection" r0.err ||
    fail "rank 0's message: $(cat r0.err)"
  [ "$SECONDS" -lt 60 ] || fail "rank 0 took $SECONDS s to notice"
}

# Half a launch is an error naming the variable; srun's variables without
# MASTER_ADDR are one process (a note says so) with the same bytes.
test_environment() {
  WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=1 expect_fail 1 \
    "train-classifier: error: environment variable RANK expected, but not set" \
    train-classifier train.st "${quick[@]}" --epochs 1 -o x.st
  train-classifier train.st "${quick[@]}" --epochs 1 -o plain.st >plain.json
  SLURM_NTASKS=2 SLURM_PROCID=0 SLURM_LOCALID=0 train-classifier train.st "${quick[@]}" --epochs 1 -o slurm.st \
    >slurm.json 2>slurm.err
  grep -q "^train-classifier: note: SLURM_NTASKS=2 but MASTER_ADDR is not set: training as one process" slurm.err ||
    fail "note: $(cat slurm.err)"
  same_tensors plain.st.last slurm.st.last || fail "the srun-without-MASTER_ADDR run differs from a plain one"
}

# srun's variables with MASTER_ADDR (what scripts/slurm/ddp.sbatch exports)
# are a launch: 2 tasks train as the same 2 ranks under torchrun's variables
# do, to the same bits.
test_srun_variables() {
  ranks 2 train-classifier train.st "${quick[@]}" --epochs 2 -o t.st
  LAUNCHER=srun ranks 2 train-classifier train.st "${quick[@]}" --epochs 2 -o s.st
  grep -q "^train-classifier: srun launch: rank 1 of 2 (local 1 of 2), store 127.0.0.1:$PORT; 1 thread$" r1.err ||
    fail "task 1's launch line: $(cat r1.err)"
  [ -s r0.out ] && [ ! -s r1.out ] || fail "stdout: task 0 '$(cat r0.out)', task 1 '$(cat r1.out)'"
  same_tensors t.st.last s.st.last || fail "srun's 2 tasks differ from torchrun's 2 ranks"
}

# torchrun's agent already serves the store (TORCHELASTIC_USE_AGENT_STORE):
# every rank is a client under /worker/attempt_<restart>. A stand-in agent
# in Debian's PyTorch (python3-torch) serves it here.
test_agent_store() {
  PY=${INVKIT_PYTHON:-/usr/bin/python3}  # a python3 that imports torch
  $PY -c 'import torch.distributed' 2>/dev/null || skip "$PY cannot import torch (apt-get install python3-torch)"
  port=$(free_port)
  $PY -c "
import datetime, sys, time, torch.distributed as d
s = d.TCPStore('127.0.0.1', $port, None, True, datetime.timedelta(seconds=60), wait_for_workers=False)
print('up', flush=True)
time.sleep(60)" >agent.out 2>agent.err &
  agent=$!
  wait_for agent.out
  pids=()
  for r in 0 1; do
    WORLD_SIZE=2 RANK=$r LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=$port TORCHELASTIC_USE_AGENT_STORE=True \
      TORCHELASTIC_RESTART_COUNT=3 train-classifier train.st "${quick[@]}" --epochs 1 -o a.st >"r$r.out" 2>"r$r.err" &
    pids[r]=$!
  done
  for r in 0 1; do
    wait "${pids[r]}" && continue
    kill "$agent"
    if grep -qs "built without Gloo" r*.err; then skip "this build has no Gloo"; fi
    fail "rank $r: $(cat r$r.err)"
  done
  kill "$agent"
  grep -q "store 127.0.0.1:$port (torchrun's agent)" r0.err || fail "launch line: $(cat r0.err)"
  [ -s a.st.last ] || fail "no checkpoint"
}

run_tests "$@"
