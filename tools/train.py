#!/usr/bin/env python
"""Train on the source domains, then test the best source-validation
checkpoint on the target domain (writes <work_dir>/target_results.json).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--seed N] [--deterministic]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

A baseline config (RNA-Net, SimMMDG, MOOSA, CMRF) trains with one setting
for every split; ``--cfg-options per_split=True`` applies its authors'
per-split settings (mbcd_mmaction/experiments/baseline_settings.py).
"""
import mbcd_mmaction  # noqa: F401  (compat fixes first)
from mbcd_mmaction.apis import (build_train_parser, setup_cfg,
                                shutdown_distributed, train)
from mbcd_mmaction.experiments.baseline_settings import apply_per_split


def main(argv=None):
    args = build_train_parser().parse_args(argv)
    try:
        cfg = setup_cfg(args)
        apply_per_split(cfg)
        train(cfg)
    finally:
        shutdown_distributed()


if __name__ == '__main__':
    main()
