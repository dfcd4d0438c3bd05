"""One JSON summary of ``tools/gpu_check.sh``'s steps.

    python -m mbcd_mmaction.benchmark.gpu_check OUT_DIR

reads what the script left in OUT_DIR (``steps.json``: every method's
smoke iterations with bf16 autocast and channels-last; ``full.json``: the
benchmark at full size; ``ddp.rc``/``ddp.log``: the 2-process NCCL
equivalence test, or ``ddp.skipped``) and prints one JSON object.
"""
import json
import os.path as osp
import sys


def _read(path):
    with open(path) as f:
        return f.read()


def _benchmark(path: str) -> dict:
    if not osp.exists(path):
        return dict(ok=False, error=f'{path} missing (the step failed)')
    try:
        result = json.loads(_read(path))
    except json.JSONDecodeError as e:
        return dict(ok=False, error=f'{path}: not JSON ({e})')
    methods = {name: {k: res.get(k) for k in (
        'sec_per_iter', 'ratio_to_erm', 'top_stage_passes_fwd',
        'top_stage_passes_bwd', 'top_stage_gradients_bwd',
        'peak_memory_bytes')}
        for name, res in result['methods'].items()}
    out = dict(ok=not result['errors'], errors=result['errors'],
               settings={k: result['settings'][k] for k in (
                   'size', 'batch_size', 'device', 'amp_bf16',
                   'channels_last', 'iters')},
               gpu=result['machine'].get('gpu'), methods=methods)
    data = result.get('data')
    if data and 'loader_clips_per_sec' in data:
        out['loader_clips_per_sec'] = data['loader_clips_per_sec']
    return out


def summarize(out_dir: str) -> dict:
    """The summary of the step outputs in ``out_dir``."""
    skipped = osp.join(out_dir, 'ddp.skipped')
    if osp.exists(skipped):
        ddp = dict(ok=None, skipped=_read(skipped).strip())
    elif osp.exists(osp.join(out_dir, 'ddp.rc')):
        rc = int(_read(osp.join(out_dir, 'ddp.rc')))
        log = _read(osp.join(out_dir, 'ddp.log'))
        ddp = dict(ok=rc == 0, returncode=rc,
                   tail=log.strip().splitlines()[-5:])
    else:
        ddp = dict(ok=False, error='no ddp.rc (the step did not run)')
    steps = _benchmark(osp.join(out_dir, 'steps.json'))
    full = _benchmark(osp.join(out_dir, 'full.json'))
    return dict(ok=bool(steps['ok'] and full['ok'] and ddp['ok'] in
                        (True, None)),
                every_method_bf16_channels_last=steps,
                ddp_nccl_2_vs_1=ddp, benchmark_full=full)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not osp.isdir(argv[0]):
        sys.exit('usage: python -m mbcd_mmaction.benchmark.gpu_check '
                 f'OUT_DIR (a directory), got {argv}')
    summary = summarize(argv[0])
    sys.stdout.write(json.dumps(summary, indent=1) + '\n')
    sys.exit(0 if summary['ok'] else 1)


if __name__ == '__main__':
    main()
