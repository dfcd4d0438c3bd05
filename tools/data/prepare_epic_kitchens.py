"""EPIC-Kitchens-55 download -> the frames layout EpicKitchensDataset reads
(rgb/{split}/D1/P08_01/..., flow/.../{u,v}/..., rgb/{split}/D1/P08_01.wav).
See mbcd_mmaction/datasets/preparation/epic.py.

    python tools/data/prepare_epic_kitchens.py EPIC_ROOT SPLIT_DIR OUT
        [--mode symlink|copy] [--modalities rgb flow audio]

EPIC_ROOT holds frames_rgb_flow/ and videos/ (EPIC_KITCHENS_2018/ may be in
between); SPLIT_DIR the MM-SADA pickles D{1,2,3}_{train,test}.pkl.
Exit code 1 when something is missing from the download.
"""
import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('epic_root')
    parser.add_argument('split_dir')
    parser.add_argument('out')
    parser.add_argument('--mode', default='symlink',
                        choices=['symlink', 'copy'],
                        help='for extracted frame folders (tars are '
                        'always extracted)')
    parser.add_argument('--modalities', nargs='+',
                        default=['rgb', 'flow', 'audio'])
    parser.add_argument('--domains', nargs='+', default=['D1', 'D2', 'D3'])
    args = parser.parse_args(argv)
    # after parsing: --help answers without importing torch and mmaction
    from mbcd_mmaction.datasets.preparation import prepare_epic_kitchens
    report = prepare_epic_kitchens(args.epic_root, args.split_dir, args.out,
                                   modalities=args.modalities,
                                   domains=args.domains, mode=args.mode)
    print(f"\n{report['videos']} videos, {report['written']} items written")
    for item in report['missing']:
        print(f'MISSING {item}', file=sys.stderr)
    return 1 if report['missing'] else 0


if __name__ == '__main__':
    sys.exit(main())
