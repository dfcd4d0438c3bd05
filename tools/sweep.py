#!/usr/bin/env python
"""Launch a grid of training runs with submitit (local or Slurm).

    python tools/sweep.py --table 1 --method erm mbcd --dataset epic \
        --modalities vaf --seeds 0 1 2 [--jobs 2] [--resume] [--dry-run]
    python tools/sweep.py --executor slurm --partition gpu --gpus-per-job 1 \
        --time 720 --table 2 ...
    python tools/sweep.py --config CONFIG --domain D1 D2 D3 --seeds 0 1

Finished runs (target_results.json) are skipped, a failed run is retried
once with --resume, interrupted runs continue with --resume. See
mbcd_mmaction/experiments/sweep.py.
"""
import sys

from mbcd_mmaction.experiments.sweep import main

if __name__ == '__main__':
    sys.exit(main())
