"""List every paper table cell and the command that produces it.

    python tools/list_experiments.py [--table 1 2 4 gmp] [--dataset hac]
        [--method mbcd] [--modalities vaf] [--runs] [--json]

Each line: table, dataset, modalities, method, protocol, column, the key of
target_results.json that holds the cell, and the training command. --runs
prints each distinct training run once (a single-source run fills two
cells). Torch-free (mbcd_mmaction.experiments imports neither torch nor
mmaction).
"""
import argparse
import json
import sys

from mbcd_mmaction.experiments import grid

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--table', type=grid.parse_table, nargs='+',
                        help='paper tables %s or ablation tables %s' % (
                            sorted(grid.TABLES),
                            sorted(grid.ABLATIONS, key=str)))
    parser.add_argument('--dataset', nargs='+', choices=sorted(grid.DOMAINS))
    parser.add_argument('--method', nargs='+', choices=grid.METHODS,
                        default=list(grid.METHODS))
    parser.add_argument('--modalities', nargs='+',
                        choices=sorted(grid.MODALITIES))
    parser.add_argument('--runs', action='store_true',
                        help='one line per training run')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args(argv)
    cells = grid.table_cells(args.table, args.method, args.dataset,
                             args.modalities)
    if args.json:
        chosen = grid.unique_runs(cells) if args.runs else cells
        print(json.dumps([c.to_dict() for c in chosen], indent=1))
    else:
        print(grid.format_cells(cells, runs_only=args.runs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
