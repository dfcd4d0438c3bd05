"""Cost benchmark: seconds per training iteration of every method (paper
encoders, no weights) with its split, top-stage passes, peak memory and
teacher size, and the data pipeline's throughput per worker. Prints a table;
``--json`` prints every figure as one JSON object instead, ``--output FILE``
writes that JSON to FILE.

    python tools/benchmark.py                  # the full CPU/GPU benchmark
    python tools/benchmark.py --smoke          # seconds, for CI
    python tools/benchmark.py --json > b.json  # every figure, as JSON
    python tools/benchmark.py --startup        # tools' --help and imports
"""
import json
import logging
import sys

from mbcd_mmaction.parsers import build_benchmark_parser


def main(argv=None) -> None:
    args = build_benchmark_parser().parse_args(argv)
    if args.startup:
        sys.exit(_startup(args))
    # after parsing: --help answers without importing torch and mmaction
    from mmengine.logging import MMLogger

    from mbcd_mmaction.benchmark import run_benchmark
    from mbcd_mmaction.benchmark.report import format_report
    from mbcd_mmaction.benchmark.training import HostMemoryExhausted
    from mbcd_mmaction.engine.runner.atomic import atomic_write_bytes
    # mmengine's build messages would bury the table (they go to stderr).
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    try:
        result = run_benchmark(args)
    except HostMemoryExhausted as e:
        sys.exit(f'tools/benchmark.py: {e}')
    text = json.dumps(result, indent=1, sort_keys=False)
    if args.output:
        atomic_write_bytes(args.output, (text + '\n').encode())
    sys.stdout.write(text + '\n' if args.json else format_report(result))
    if result['errors']:
        sys.exit(1)


def _startup(args) -> int:
    import os.path as osp

    from mbcd_mmaction.benchmark.startup import format_startup, startup_times
    from mbcd_mmaction.engine.runner.atomic import atomic_write_bytes
    result = startup_times(osp.dirname(osp.dirname(osp.abspath(__file__))),
                           repeats=args.iters)
    text = json.dumps(result, indent=1)
    if args.output:
        atomic_write_bytes(args.output, (text + '\n').encode())
    sys.stdout.write(text + '\n' if args.json else format_startup(result))
    return 0


if __name__ == '__main__':
    main()
