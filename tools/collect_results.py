#!/usr/bin/env python
"""Collect the runs of a sweep into the MBCD paper's tables.

    python tools/collect_results.py --work-root work_dirs/sweep \
        --table 1 2 3 8 9 10 4 5 gmp [--seeds 0 1 2] \
        [--selection source_val|oracle] [--method erm mbcd] [--dataset epic] \
        [--config-pattern 'configs/{family}/{method}_{dataset}_demo.py'] \
        [--per-modality] [--out results/tables]

Without --table/--seeds/--config-pattern/--cfg-options it collects what
the sweeps on the work root recorded in its sweep_manifest.json, and warns
about finished runs that match no cell.
Writes <out>.md and <out>.csv (and prints the Markdown): mean ± sample std
over seeds with the number of seeds per cell; missing, failed and
unfinished runs are named in their cells. --per-modality: each cell's
target accuracy fused and per modality, and fused minus the best
uni-modal, at the selected checkpoint and at the last epoch. Torch-free.
"""
import argparse
import os
import os.path as osp
import sys

from mbcd_mmaction.experiments import collect, grid
from mbcd_mmaction.experiments.sweep import read_manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-root', default='work_dirs/sweep')
    given = parser.add_argument_group(
        'what to collect (default: what the sweeps recorded in '
        '<work-root>/sweep_manifest.json; without a manifest: table 1, '
        'seeds 0 1 2, the paper configs, no added options)')
    given.add_argument('--table', nargs='+', type=grid.parse_table)
    given.add_argument('--seeds', type=int, nargs='+')
    given.add_argument('--config-pattern')
    given.add_argument('--cfg-options', nargs='+', metavar='KEY=VALUE',
                       help='the options the sweep added to every run')
    parser.add_argument('--selection', default='source_val',
                        choices=sorted(collect.SELECTIONS))
    parser.add_argument('--method', nargs='+',
                        help='rows (default: the paper\'s and every method '
                        'of the grid)')
    parser.add_argument('--dataset', nargs='+', choices=sorted(grid.DOMAINS))
    parser.add_argument('--per-modality', action='store_true',
                        help='fused and per-modality target accuracy and '
                        'fused minus the best uni-modal, at the selected '
                        'checkpoint and at the last epoch')
    parser.add_argument('--out', default=None,
                        help='write <out>.md and <out>.csv')
    args = parser.parse_args(argv)
    explicit = any(v is not None for v in (
        args.table, args.seeds, args.config_pattern, args.cfg_options))
    if not explicit and read_manifest(args.work_root) is not None:
        markdown, table_csv, warning = collect.collect_manifest(
            args.work_root, args.selection, args.method, args.dataset,
            args.per_modality)
    else:
        used = set()
        markdown, table_csv = collect.collect(
            args.work_root, args.table or [1], args.seeds or [0, 1, 2],
            args.selection, args.method, args.dataset,
            args.config_pattern or grid.CONFIG_PATTERN,
            args.cfg_options or (), used, args.per_modality)
        warning = collect.unmatched_warning(args.work_root, used)
    print(markdown)
    if warning:
        print(warning, file=sys.stderr)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        for ext, text in (('md', markdown), ('csv', table_csv)):
            with open(f'{args.out}.{ext}', 'w') as f:
                f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
