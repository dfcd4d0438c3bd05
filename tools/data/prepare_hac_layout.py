"""Raw videos with sound -> HAC layout (videos at 24 fps, flow x/y mp4s,
16 kHz mono wav, split CSVs). See
mbcd_mmaction/datasets/preparation/hac_layout.py for the input forms.

    python tools/data/prepare_hac_layout.py SRC OUT [--short-side 256]
        [--flow-algorithm auto|tvl1|farneback] [--test-fraction 0.2]

SRC: a folder {domain}/{class}/{video} or a CSV path,label,domain[,split].
Exit code 1 when a video failed (missing audio, undecodable).
"""
import argparse
import json
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src')
    parser.add_argument('out')
    parser.add_argument('--fps', type=float, default=24.0)
    parser.add_argument('--short-side', type=int, default=None,
                        help='resize frames (default: keep the size)')
    parser.add_argument('--flow-algorithm', default='auto',
                        choices=['auto', 'tvl1', 'farneback'],
                        help='auto: TV-L1 (cv2.optflow) if available')
    parser.add_argument('--flow-bound', type=float, default=None,
                        help='flow is clipped to [-BOUND, BOUND] pixels '
                        'before it is quantised (default: the '
                        'preparation\'s FLOW_BOUND, 20)')
    parser.add_argument('--sample-rate', type=int, default=16000)
    parser.add_argument('--test-fraction', type=float, default=0.2)
    parser.add_argument('--overwrite', action='store_true')
    args = parser.parse_args(argv)
    # after parsing: --help answers without importing torch and mmaction
    from mbcd_mmaction.datasets.preparation import prepare_hac_layout
    from mbcd_mmaction.datasets.preparation.media import FLOW_BOUND
    bound = FLOW_BOUND if args.flow_bound is None else args.flow_bound
    report = prepare_hac_layout(
        args.src, args.out, fps=args.fps, short_side=args.short_side,
        flow_algorithm=args.flow_algorithm, bound=bound,
        sample_rate=args.sample_rate, test_fraction=args.test_fraction,
        overwrite=args.overwrite)
    print(f"\nflow: {report['flow_algorithm']}; split rows: "
          f"{json.dumps(report['counts'])}")
    for path, error in report['failed'].items():
        print(f'FAILED {path}: {error}', file=sys.stderr)
    return 1 if report['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
