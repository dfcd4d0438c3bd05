#!/usr/bin/env python
"""Collect the runs of a sweep into the MBCD paper's tables.

    python tools/collect_results.py --work-root work_dirs/sweep \
        --table 1 2 3 8 9 10 4 5 gmp [--seeds 0 1 2] \
        [--selection source_val|oracle] [--method erm mbcd] [--dataset epic] \
        [--config-pattern 'configs/{family}/{method}_{dataset}_demo.py'] \
        [--out results/tables]

Writes <out>.md and <out>.csv (and prints the Markdown): mean ± sample std
over seeds with the number of seeds per cell; missing, failed and
unfinished runs are named in their cells. Torch-free.
"""
import argparse
import os
import os.path as osp
import sys

from mbcd_mmaction.experiments import collect, grid


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-root', default='work_dirs/sweep')
    parser.add_argument('--table', nargs='+', type=grid.parse_table,
                        default=[1])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--selection', default='source_val',
                        choices=sorted(collect.SELECTIONS))
    parser.add_argument('--method', nargs='+',
                        help='rows (default: the paper\'s and every method '
                        'of the grid)')
    parser.add_argument('--dataset', nargs='+', choices=sorted(grid.DOMAINS))
    parser.add_argument('--config-pattern', default=grid.CONFIG_PATTERN)
    parser.add_argument('--out', default=None,
                        help='write <out>.md and <out>.csv')
    args = parser.parse_args(argv)
    markdown, table_csv = collect.collect(
        args.work_root, args.table, args.seeds, args.selection, args.method,
        args.dataset, args.config_pattern)
    print(markdown)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        for ext, text in (('md', markdown), ('csv', table_csv)):
            with open(f'{args.out}.{ext}', 'w') as f:
                f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
