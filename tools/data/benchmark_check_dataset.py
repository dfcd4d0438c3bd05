#!/usr/bin/env python
"""Time of tools/data/check_dataset.py's default (every frame decoded) and
--quick checks on generated EPIC-Kitchens-layout data; prints JSON.

    python tools/data/benchmark_check_dataset.py [--clips 100]
        [--frame-size 456 256] [--clip-frames 90] [--root DIR]

The default frame size is EPIC-Kitchens' (456 x 256 jpgs); clips are 1.5 s
at 60 fps RGB + 30 fps u/v flow (90 + 2 x 45 jpgs) and a per-video wav.
"""
import argparse
import json
import os.path as osp
import tempfile
import time



def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--clips', type=int, default=100,
                        help='training clips (one domain)')
    parser.add_argument('--frame-size', type=int, nargs=2,
                        default=(456, 256))
    parser.add_argument('--clip-frames', type=int, default=90)
    parser.add_argument('--root', help='keep the data here (default: tmp)')
    args = parser.parse_args(argv)
    # after parsing: --help answers without importing torch and mmaction
    from mbcd_mmaction.datasets.preparation import (check_dataset_cfg,
                                                    epic_config)
    from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens
    with tempfile.TemporaryDirectory() as tmp:
        root = args.root or osp.join(tmp, 'epic')
        generate_epic_kitchens(root, domains=('D1', ),
                               clips_per_split={'train': args.clips,
                                                'test': 1},
                               frame_size=tuple(args.frame_size),
                               clip_frames=args.clip_frames)
        result = dict(clips=args.clips, frame_size=list(args.frame_size),
                      clip_frames=args.clip_frames)
        for mode, quick in (('all_frames', False), ('quick', True)):
            cfg = epic_config(root, domains=('D1', ))
            cfg.pop('test_dataloader')
            start = time.perf_counter()
            report = check_dataset_cfg(cfg, quick=quick, progress=False)
            seconds = time.perf_counter() - start
            assert not report['problems'], report['problems'][:3]
            result[mode] = dict(
                seconds=round(seconds, 3),
                seconds_per_1000_clips=round(1000 * seconds / args.clips, 1))
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()
