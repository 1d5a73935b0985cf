# Sourced by the benchmarks of scripts/bench.d: the PyTorch builds they run
# their Python side on. BENCH_REFS is a space-separated list of NAME=PYTHON,
# NAME=PYTHON:compile for torch.compile; scripts/bench sets it (Debian's
# PyTorch 1.13 and PyPI's 2.x, eager and compiled); a benchmark run alone
# compares with Debian's. Sets the arrays REF_NAMES, REF_PYTHONS, REF_FLAGS.
BENCH_REFS=${BENCH_REFS:-"torch-1.13=/usr/bin/python3"}
REF_NAMES=() REF_PYTHONS=() REF_FLAGS=()
for ref in $BENCH_REFS; do
  rest=${ref#*=}
  REF_NAMES+=("${ref%%=*}")
  REF_PYTHONS+=("${rest%:compile}")
  if [ "$rest" != "${rest%:compile}" ]; then REF_FLAGS+=(--compile); else REF_FLAGS+=(""); fi
  "${rest%:compile}" -c 'import torch' 2>/dev/null ||
    { echo "bench: ${ref%%=*}: ${rest%:compile} cannot import torch (Debian's: apt-get install -y python3-torch)" >&2; exit 1; }
done
