"""Live vs cached training epochs at the paper's size.

    python tools/cache_benchmark.py [--methods erm mbcd] [--clips 12]
        [--epochs 2] [--work-dir work_dirs/cache_benchmark] [--json]

Generates EPIC-Kitchens-layout clips of the real frame size (456x256 jpgs)
and trains each method's paper config (configs/<method>/<method>_epic.py,
paper encoders with random weights) live and from the frozen-trunk cache,
with the same seed and the same augmented views; prints a table (or JSON
with --json) of seconds per training epoch, the speed-up, the one-off cache
cost, the target accuracy and the last epoch's training loss of both runs.
"""
import argparse
import json
import sys


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--methods', nargs='+', default=['erm', 'mbcd'])
    p.add_argument('--clips', type=int, default=12,
                   help='training clips per source domain (default 12)')
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--batch-size', type=int, default=4)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--dtype', choices=('float16', 'float32'),
                   default='float16',
                   help='storage of the cache (default float16, as '
                        'tools/cache_features.py)')
    p.add_argument('--frame-size', type=int, nargs=2, default=(456, 256),
                   metavar=('W', 'H'))
    p.add_argument('--config-pattern',
                   default='configs/{method}/{method}_epic.py',
                   help='config of each method; {method} is replaced '
                        '(default: the paper configs; '
                        "'configs/{method}/{method}_epic_demo.py' runs the "
                        'demo encoders in seconds)')
    p.add_argument('--work-dir', default='work_dirs/cache_benchmark',
                   help='must not exist (data, runs and caches go here)')
    p.add_argument('--json', action='store_true',
                   help='print the JSON report instead of the table')
    p.add_argument('--output', default=None,
                   help='also write the JSON report to this file')
    return p.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    import mbcd_mmaction.registration  # noqa: F401  (registers every component)
    from mbcd_mmaction.benchmark.cache import benchmark_cache, format_table
    report = benchmark_cache(args.methods, args.work_dir, args.clips,
                             args.epochs, args.batch_size, args.seed,
                             args.frame_size, args.dtype,
                             args.config_pattern)
    text = json.dumps(report, indent=1)
    if args.output:
        with open(args.output, 'w') as f:
            f.write(text + '\n')
    sys.stdout.write((text if args.json else format_table(report)) + '\n')


if __name__ == '__main__':
    main()
