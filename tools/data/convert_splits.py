"""Convert the EPIC-Kitchens split pickles D*_{train,test}.pkl of a folder
to CSV (D*_train.csv ..., next to them or in --out). The pickles are read
without running code from them (only the globals a pandas DataFrame of the
split columns needs are resolved); the dataset reads a CSV instead of the
pickle of the same name when both exist.

    python tools/data/convert_splits.py SPLIT_DIR [--out DIR] [--overwrite]
"""
import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('split_dir')
    parser.add_argument('--out', help='folder of the CSVs (default: '
                        'SPLIT_DIR)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing CSVs')
    args = parser.parse_args(argv)
    # after parsing: --help answers without importing torch and mmaction
    from mbcd_mmaction.datasets.split_files import convert_split_pickles
    for path in convert_split_pickles(args.split_dir, args.out,
                                      args.overwrite):
        print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
