"""Check a dataset's files against its split / annotation files before
training: every missing, unreadable or too-short file is reported; exit
code 1 if there is any.

    python tools/data/check_dataset.py CONFIG [--cfg-options k=v ...]
    python tools/data/check_dataset.py --hac DATA_ROOT
    python tools/data/check_dataset.py --epic DATA_ROOT [--layout clips]

With a config, the train/val/test dataloaders after apply_protocol are
checked (only the domains that config uses); --hac / --epic check every
domain and split of a root.
"""
import argparse
import sys

from mmengine.config import Config, DictAction

from mbcd_mmaction.datasets.preparation import (check_dataset_cfg,
                                                epic_config, hac_config)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?')
    parser.add_argument('--hac', metavar='DATA_ROOT')
    parser.add_argument('--epic', metavar='DATA_ROOT')
    parser.add_argument('--layout', default='frames',
                        choices=['frames', 'clips'])
    parser.add_argument('--modalities', nargs='+',
                        default=['rgb', 'flow', 'audio'])
    parser.add_argument('--min-frames', type=int, default=8,
                        help='videos with fewer frames are too short')
    parser.add_argument('--all-frames', action='store_true',
                        help='frames layout: open every jpg of a clip, not '
                        'only its first and last')
    parser.add_argument('--data-root',
                        help='with CONFIG: the data_root of every dataset')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if sum(x is not None for x in (args.config, args.hac, args.epic)) != 1:
        parser.error('give exactly one of CONFIG, --hac, --epic')
    if args.config:
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        if args.data_root:
            from mbcd_mmaction.datasets.protocols import _innermost_datasets
            for key in ('train_dataloader', 'val_dataloader',
                        'test_dataloader'):
                if cfg.get(key):
                    for ds in _innermost_datasets(cfg[key].get('dataset')):
                        ds['data_root'] = args.data_root
    elif args.hac:
        cfg = hac_config(args.hac, args.modalities)
    else:
        cfg = epic_config(args.epic, args.layout, args.modalities)
    report = check_dataset_cfg(cfg, min_frames=args.min_frames,
                               check_all_frames=args.all_frames,
                               progress=not args.no_progress)
    print()
    for name, count in report['samples'].items():
        print(f'{name}: {count} samples')
    for problem in report['problems']:
        print(problem)
    n = len(report['problems'])
    print(f'{n} problem(s)' if n else 'OK: every file is present and '
          'readable')
    return 1 if n else 0


if __name__ == '__main__':
    sys.exit(main())
