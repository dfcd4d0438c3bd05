#!/usr/bin/env python
"""Train on the source domains, then test the best source-validation
checkpoint on the target domain (writes <work_dir>/target_results.json).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--seed N] [--deterministic]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

A baseline config (RNA-Net, SimMMDG, MOOSA, CMRF) trains with one setting
for every split; ``--cfg-options per_split=True`` applies its authors'
per-split settings (mbcd_mmaction/experiments/baseline_settings.py; applied
with the protocol when the runner is built, so the stock tools honour it).
"""
from mbcd_mmaction.parsers import build_train_parser


def main(argv=None):
    args = build_train_parser().parse_args(argv)
    # after parsing: --help answers without importing torch and mmaction
    import mbcd_mmaction.registration  # noqa: F401  (registers every component)
    from mbcd_mmaction.apis import (run_request, setup_cfg,
                                    shutdown_distributed, train)
    succeeded = False
    try:
        train(setup_cfg(args), request=run_request(args, argv))
        succeeded = True
    finally:
        shutdown_distributed(succeeded)


if __name__ == '__main__':
    main()
