#!/usr/bin/env python
"""Test a checkpoint on the test split (the target domain); writes
<work_dir>/test_results.json.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--dump X.pkl]
        [--allow-key-mismatch]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]
"""
from mbcd_mmaction.parsers import build_test_parser


def main(argv=None):
    args = build_test_parser().parse_args(argv)
    # after parsing: --help answers without importing torch and mmaction
    import mbcd_mmaction.registration  # noqa: F401  (registers every component)
    from mbcd_mmaction.apis import (run_request, setup_test_cfg,
                                    shutdown_distributed, test)
    succeeded = False
    try:
        test(setup_test_cfg(args), strict=not args.allow_key_mismatch,
             request=run_request(args, argv))
        succeeded = True
    finally:
        shutdown_distributed(succeeded)


if __name__ == '__main__':
    main()
