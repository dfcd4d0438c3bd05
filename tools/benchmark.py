"""Cost benchmark: seconds per training iteration of every method (paper
encoders, no weights) with its split, peak memory and teacher size, and the
data pipeline's throughput per worker; one JSON object on stdout.

    python tools/benchmark.py            # the full CPU/GPU benchmark
    python tools/benchmark.py --smoke    # seconds, for CI
"""
import json
import logging
import sys

from mmengine.logging import MMLogger

from mbcd_mmaction.benchmark import build_parser, run_benchmark
from mbcd_mmaction.benchmark.training import HostMemoryExhausted
from mbcd_mmaction.engine.runner.atomic import atomic_write_bytes


def main(argv=None) -> None:
    args = build_parser().parse_args(argv)
    # Keep stdout one JSON object: mmengine's build messages go to stderr.
    MMLogger.get_current_instance().setLevel(logging.WARNING)
    try:
        result = run_benchmark(args)
    except HostMemoryExhausted as e:
        sys.exit(f'tools/benchmark.py: {e}')
    text = json.dumps(result, indent=1, sort_keys=False)
    if args.output:
        atomic_write_bytes(args.output, text.encode())
    sys.stdout.write(text + '\n')
    if result['errors']:
        sys.exit(1)


if __name__ == '__main__':
    main()
