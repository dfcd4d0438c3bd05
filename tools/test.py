#!/usr/bin/env python
"""Test a checkpoint on the test split (the target domain); writes
<work_dir>/test_results.json.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump X.pkl]
        [--allow-key-mismatch]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
"""
import mbcd_mmaction  # noqa: F401  (compat fixes first)
from mbcd_mmaction.apis import (build_test_parser, setup_test_cfg,
                                shutdown_distributed, test)


def main(argv=None):
    args = build_test_parser().parse_args(argv)
    succeeded = False
    try:
        test(setup_test_cfg(args), strict=not args.allow_key_mismatch)
        succeeded = True
    finally:
        shutdown_distributed(succeeded)


if __name__ == '__main__':
    main()
