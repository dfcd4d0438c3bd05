#!/usr/bin/env python
"""The MBCD paper's analyses on trained work dirs; each writes OUT.png and
OUT.json.

    python tools/analyze.py flatness WORK_DIR [WORK_DIR ...] --out flat
    python tools/analyze.py noise WORK_DIR --modality audio --out noise
    python tools/analyze.py missing WORK_DIR --out missing
    python tools/analyze.py tsne WORK_DIR --out tsne
    python tools/analyze.py curves WORK_DIR [WORK_DIR ...] --out curves
    python tools/analyze.py mechanism WORK_DIR [WORK_DIR ...] --out mech

mechanism writes OUT_modalities.png (each modality head's source-val
accuracy per epoch), OUT_dropout.png (the logged drop probability per
modality) and OUT_teacher.png (teacher vs student fused accuracy) and
OUT.json, from the work dirs' eval_log.jsonl and training log.

A work dir's model is its config (dumped by mmengine) and its best
source-validation checkpoint (--checkpoint to choose another); the data is
its target split (--split val: the source validation split). See
mbcd_mmaction/analysis/.
"""
import argparse
import os.path as osp
import sys


def _label(work_dir, labels, i):
    return labels[i] if labels else osp.relpath(work_dir)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('analysis', choices=['flatness', 'noise', 'missing',
                                             'tsne', 'curves', 'mechanism'])
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--out', required=True,
                        help='output prefix: OUT.png, OUT.json')
    parser.add_argument('--labels', nargs='+')
    parser.add_argument('--checkpoint', nargs='+',
                        help='one per work dir (default: best)')
    parser.add_argument('--split', default='test', choices=['test', 'val'])
    parser.add_argument('--modality', help='noise: the noised modality')
    parser.add_argument('--stds', type=float, nargs='+',
                        default=[0, 0.25, 0.5, 1, 2])
    parser.add_argument('--radii', type=float, nargs='+',
                        default=[0, 10, 20, 30, 40],
                        help='absolute L2 radii (see weight_norm in the '
                        'JSON)')
    parser.add_argument('--directions', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    # after parsing: --help answers without importing torch and mmaction
    import mbcd_mmaction.registration  # noqa: F401  (registers components)
    from mbcd_mmaction import analysis
    from mbcd_mmaction.analysis import plots
    if args.labels and len(args.labels) != len(args.work_dirs):
        parser.error('--labels needs one label per work dir')
    if args.checkpoint and len(args.checkpoint) != len(args.work_dirs):
        parser.error('--checkpoint needs one checkpoint per work dir')
    labels = [_label(w, args.labels, i) for i, w in enumerate(args.work_dirs)]
    if args.analysis == 'curves':
        result = analysis.training_curves(args.work_dirs, labels)
        for run in result['runs']:
            run['run'] = analysis.describe_run(run['work_dir'])
        plots.plot_curves(result, args.out + '.png')
        plots.save_json(result, args.out + '.json')
        return 0
    if args.analysis == 'mechanism':
        result = analysis.mechanism_curves(args.work_dirs, labels)
        for run in result['runs']:
            run['run'] = analysis.describe_run(run['work_dir'])
        plots.plot_mechanism(result, args.out)
        plots.save_json(result, args.out + '.json')
        return 0
    if args.analysis != 'flatness' and len(args.work_dirs) != 1:
        parser.error(f'{args.analysis} takes one work dir')
    results = []
    for i, work_dir in enumerate(args.work_dirs):
        model, data, checkpoint = analysis.load_run(
            work_dir, args.checkpoint[i] if args.checkpoint else None,
            split=args.split)
        if args.analysis == 'flatness':
            result = analysis.flatness(model, data, args.radii,
                                       args.directions, args.seed)
        elif args.analysis == 'noise':
            if not args.modality:
                parser.error('noise needs --modality')
            result = analysis.modality_noise(model, data, args.modality,
                                             args.stds, args.seed)
        elif args.analysis == 'missing':
            result = analysis.missing_modality(model, data)
        else:
            result = analysis.tsne_embeddings(model, data, seed=args.seed)
        result.update(work_dir=work_dir, checkpoint=checkpoint,
                      split=args.split, label=labels[i],
                      run=analysis.describe_run(work_dir))
        results.append(result)
    if args.analysis == 'flatness':
        plots.plot_flatness(results, labels, args.out + '.png')
        plots.save_json(dict(analysis='flatness', runs=results),
                        args.out + '.json')
        return 0
    draw = dict(noise=plots.plot_noise, missing=plots.plot_missing,
                tsne=plots.plot_tsne)[args.analysis]
    draw(results[0], args.out + '.png')
    plots.save_json(results[0], args.out + '.json')
    return 0


if __name__ == '__main__':
    sys.exit(main())
