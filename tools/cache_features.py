"""Run the frozen trunks of an experiment once and cache their outputs.

    python tools/cache_features.py CONFIG [--out DIR] [--num-views K]
        [--cfg-options target_domain=D2 ...]

writes ``DIR/{train,val,test}`` (K augmented views per training clip, one
centre view per validation/test clip, fp16). Then train any method of the
same encoders and data from it:

    python tools/train.py CONFIG --cfg-options trunk_cache.dir=DIR \
        trunk_cache.num_views=K ...

Prints a JSON summary (clips, views, bytes per clip and per view, seconds).
"""
import argparse
import json
import sys

from mmengine.config import DictAction


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('config')
    p.add_argument('--out', help='cache directory (default: the config\'s '
                   'trunk_cache.dir)')
    p.add_argument('--num-views', type=int, default=None,
                   help="augmented views per training clip (default: the "
                   "config's trunk_cache.num_views, else 1)")
    p.add_argument('--splits', nargs='+', default=None,
                   help='train, val and/or test (default: all three)')
    p.add_argument('--dtype', default='float16',
                   help='float16 (default) or float32')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--seed', type=int, default=0,
                   help='seed of the augmented views')
    p.add_argument('--overwrite', action='store_true')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p, p.parse_args(argv)


def main(argv=None) -> None:
    parser, args = parse_args(argv)
    # after parsing: --help answers without importing torch and mmaction
    from mbcd_mmaction.apis.config import load_cfg
    from mbcd_mmaction.apis.trunk_cache import DTYPES, build_trunk_cache
    from mbcd_mmaction.datasets.trunk_cache import SPLITS
    args.splits = list(SPLITS) if args.splits is None else args.splits
    for split in args.splits:
        if split not in SPLITS:
            parser.error(f'--splits {split}: expected one of {SPLITS}')
    if args.dtype not in DTYPES:
        parser.error(f'--dtype {args.dtype}: expected one of {DTYPES}')
    cfg = load_cfg(args.config, args.cfg_options, use_trunk_cache=False)
    report = build_trunk_cache(
        cfg, cache_dir=args.out, num_views=args.num_views,
        splits=args.splits, dtype=args.dtype, batch_size=args.batch_size,
        seed=args.seed, overwrite=args.overwrite)
    sys.stdout.write(json.dumps(report, indent=1) + '\n')


if __name__ == '__main__':
    main()
