"""The benchmark's result as tables for the terminal."""
from typing import List, Optional

COLUMNS = ('method', 's/iter', 'x ERM', 'passes fwd/bwd', 'gradients',
           'trunk s', 'top fwd s', 'top bwd s', 'peak MiB', 'trainable M')


def _num(value: Optional[float], fmt: str) -> str:
    return '-' if value is None else format(value, fmt)


def _passes(res: dict) -> str:
    fwd, bwd = res.get('top_stage_passes_fwd'), res.get(
        'top_stage_passes_bwd')
    if fwd is None or bwd is None:
        return '-'
    return f'{fwd:g}/{bwd:g}'


def _gradients(res: dict) -> str:
    grads = res.get('top_stage_gradients_bwd')
    return '-' if grads is None else f'{grads:g}'


def _table(header, rows) -> List[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows])
              for i in range(len(header))]
    line = ['  '.join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                      for i, (c, w) in enumerate(zip(r, widths)))
            for r in [header, *rows]]
    return [line[0], '  '.join('-' * w for w in widths), *line[1:]]


def format_report(result: dict) -> str:
    """Settings, one row per method (median seconds per iteration, ratio to
    ERM, top-stage passes forward/backward and the gradients the backward
    passes carry, the instrumented iteration's
    seconds in the frozen trunks and in the top stages' forward and
    backward, peak memory above the iteration's start, trainable
    parameters), the errors and the data pipeline's throughput."""
    s, machine = result['settings'], result['machine']
    out = [f"device {s['device']}"
           + (f" ({machine['gpu']})" if machine.get('gpu') else '')
           + f", torch {machine['torch']}, {machine['torch_threads']} "
           f"threads; size {s['size']}, batch {s['batch_size']}, "
           f"timed iterations: {s['iters']} (median); bf16 "
           f"{'on' if s['amp_bf16'] else 'off'}, channels-last "
           f"{'on' if s['channels_last'] else 'off'}", '']
    rows = []
    for name, res in result['methods'].items():
        peak = res.get('peak_memory_bytes')
        split = res.get('split_sec') or {}
        rows.append((name, _num(res.get('sec_per_iter'), '.3f'),
                     _num(res.get('ratio_to_erm'), '.2f'), _passes(res),
                     _gradients(res),
                     *(_num(split.get(k), '.3f')
                       for k in ('trunk', 'top_fwd', 'top_bwd')),
                     _num(None if peak is None else peak / 2**20, '.0f'),
                     _num(res.get('student_trainable_params', 0) / 1e6,
                          '.2f')))
    out += _table(COLUMNS, rows)
    for e in result.get('errors', []):
        out.append(f"error: {e['method']} ({e['stage']}): {e['error']}")
    data = result.get('data')
    if data:
        out += ['', f"data pipeline, clips/s per worker "
                f"({data['frame_size'][0]}x{data['frame_size'][1]} frames, "
                f"{data['clips_per_dataset']} clips x {data['passes']} "
                'passes)']
        rates = data['clips_per_sec_per_worker']
        sets = list(next(iter(rates.values())))
        out += _table(('source', *sets),
                      [(src, *(_num(r[k], '.2f') for k in sets))
                       for src, r in rates.items()])
        dec = data['decoder_clips_per_sec']
        out.append('decoders, clips/s: ' + ', '.join(
            f'{k} {_num(dec[k], ".2f")}' for k in ('decord', 'av',
                                                   'torchcodec')))
        loader = data.get('loader_clips_per_sec')
        if loader:
            out.append(f"DataLoader (epic frames, all, batch "
                       f"{loader['batch_size']}), clips/s by workers: "
                       + ', '.join(f'{n}: {r:.2f}' for n, r in
                                   loader['by_workers'].items()))
    return '\n'.join(out) + '\n'
