#!/usr/bin/env bash
# GIT with the generator in fp32 and in bf16: same generator, same seeds.
set -euo pipefail
cd "$(dirname "$0")"
D=../paper/seed-0/data
[ -f gen.st ] || bin/train-generator $D/rot-lt.st -o gen.st --iters 2000 --seed 0 --threads 1 --quiet --log gen.jsonl
for s in 0 1 2; do for p in fp32 bf16; do
  [ -f drs-git-$p-s$s.json ] && continue
  /usr/bin/time -f "%e s wall, %U s user" -o time-$p-s$s.txt \
  bin/train-classifier $D/rot-lt.st --val $D/rot-val.st --test $D/rot-test.st --rule drs --generator gen.st --gen-delayed \
    --gen-precision $p --arch resnet20 --epochs 10 --warmup 1 --step1 6 --step2 8 --keep last --seed $s --threads 1 --quiet \
    --log drs-git-$p-s$s.jsonl -o drs-git-$p-s$s.st > drs-git-$p-s$s.json.tmp
  mv drs-git-$p-s$s.json.tmp drs-git-$p-s$s.json
done; done
