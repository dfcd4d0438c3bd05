#!/usr/bin/env bash
# GPU readiness in one go, on a CUDA machine (prints one JSON summary):
#   1. every method one training step (three, as --smoke runs them) with
#      bf16 autocast and channels-last, tiny encoders;
#   2. 2-process NCCL training equal to 1 process
#      (tests/integration/test_ddp_equivalence.py; needs 2 GPUs);
#   3. tools/benchmark.py at full size (32x224x224), batch 16, with the
#      DataLoader throughput for LOADER_WORKERS worker counts.
# Usage: bash tools/gpu_check.sh [OUT_DIR]   (default: a temporary dir)
# Env: METHODS="erm mbcd ..." limits step 3 (all methods are held on the GPU
# at once); LOADER_WORKERS (default "1 4 8 <cpus>").
# On a machine without CUDA it says so and exits 0.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
"$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)'
case $? in
  0) ;;
  3) echo "tools/gpu_check.sh needs a CUDA GPU (torch.cuda.is_available() is False here); nothing to check."
     exit 0 ;;
  *) echo "tools/gpu_check.sh: $PY cannot import torch (activate the project's environment or set PYTHON)" >&2
     exit 1 ;;
esac
OUT=${1:-$(mktemp -d -t gpu_check.XXXXXX)}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
BENCH=("$PY" tools/benchmark.py --device cuda --json)
"${BENCH[@]}" --smoke --amp on --channels-last on --skip-data \
  --output "$OUT/steps.json" > /dev/null 2> "$OUT/steps.log"
GPUS=$("$PY" -c 'import torch; print(torch.cuda.device_count())')
if [ "$GPUS" -ge 2 ]; then
  "$PY" -m pytest -q -m slow -p no:cacheprovider \
    tests/integration/test_ddp_equivalence.py > "$OUT/ddp.log" 2>&1
  echo $? > "$OUT/ddp.rc"
else
  echo "NCCL needs one GPU per process: $GPUS GPU(s) visible" > "$OUT/ddp.skipped"
fi
"${BENCH[@]}" --size full --batch-size 16 \
  ${METHODS:+--methods $METHODS} \
  --loader-workers ${LOADER_WORKERS:-1 4 8 $(nproc)} \
  --output "$OUT/full.json" > /dev/null 2> "$OUT/full.log"
echo "step outputs and logs: $OUT" >&2
exec "$PY" -m mbcd_mmaction.benchmark.gpu_check "$OUT"
