"""Check a dataset's files against its split / annotation files before
training: every missing, unreadable or too-short file is reported; exit
code 1 if there is any. What the loader would adjust (clips it loops,
greyscale frames, padded audio) is listed as notices.

    python tools/data/check_dataset.py CONFIG [--cfg-options k=v ...]
    python tools/data/check_dataset.py --hac DATA_ROOT
    python tools/data/check_dataset.py --epic DATA_ROOT [--layout clips]

With a config, the train/val/test dataloaders after apply_protocol are
checked (only the domains that config uses) with the clip length and
audio settings of their pipelines; --hac / --epic check every domain and
split of a root. Every frame a training run could read is decoded
(--quick: the first and last of each clip or video only).
"""
import argparse
import sys
import time

from mmengine.config import Config, DictAction


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?')
    parser.add_argument('--hac', metavar='DATA_ROOT')
    parser.add_argument('--epic', metavar='DATA_ROOT')
    parser.add_argument('--layout', default='frames',
                        choices=['frames', 'clips'])
    parser.add_argument('--modalities', nargs='+',
                        default=['rgb', 'flow', 'audio'])
    parser.add_argument('--min-frames', type=int, default=None,
                        help='also report videos with fewer frames as too '
                        'short (with CONFIG the pipelines\' clip length is '
                        'checked anyway)')
    parser.add_argument('--quick', action='store_true',
                        help='decode only the first and last frame of each '
                        'clip or video (misses a corrupt frame in between, '
                        'which training would reject)')
    parser.add_argument('--data-root',
                        help='with CONFIG: the data_root of every dataset')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if sum(x is not None for x in (args.config, args.hac, args.epic)) != 1:
        parser.error('give exactly one of CONFIG, --hac, --epic')
    # after parsing: --help answers without importing torch and mmaction
    from mbcd_mmaction.datasets.preparation import (check_dataset_cfg,
                                                    epic_config, hac_config)
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
    start = time.perf_counter()
    report = check_dataset_cfg(cfg, min_frames=args.min_frames,
                               quick=args.quick,
                               progress=not args.no_progress)
    seconds = time.perf_counter() - start
    print()
    for name, count in report['samples'].items():
        print(f'{name}: {count} samples')
    for notice in report['notices']:
        print(notice)
    for problem in report['problems']:
        print(problem)
    clips = sum(report['samples'].values())
    print(f'checked {clips} samples in {seconds:.1f} s'
          f' ({1000 * seconds / max(clips, 1):.1f} s per 1,000 samples)')
    if report['notices']:
        print(f"{len(report['notices'])} notice(s): files the loader adjusts"
              ' (counted and logged during training)')
    n = len(report['problems'])
    print(f'{n} problem(s)' if n else 'OK: every file is present and '
          'readable')
    return 1 if n else 0


if __name__ == '__main__':
    sys.exit(main())
