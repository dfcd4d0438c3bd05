"""Small PNG plots of the analyses' numbers (matplotlib, Agg backend)."""
import json
import os
import os.path as osp
from typing import Dict, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

FIGSIZE = (4.2, 3.0)
DPI = 90


def _save(fig, path: str) -> str:
    os.makedirs(osp.dirname(osp.abspath(path)) or '.', exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


#: curves with at most this many points get a marker per point
MARKER_POINTS = 30


def describe(run: Dict) -> str:
    """``'MBCD -> D1 (teacher)'`` of :func:`~.core.describe_run`'s dict
    (empty if none)."""
    if not run:
        return ''
    target = run.get('target') or []
    target = ','.join(target) if isinstance(target, list) else str(target)
    return f"{run.get('method')} -> {target} ({run.get('model')})"


def _chance(ax, runs: Sequence[Dict]) -> None:
    """A dashed line at chance accuracy (when the runs agree on it)."""
    chances = {r.get('chance') for r in runs if r}
    if len(chances) == 1 and None not in chances:
        chance, = chances
        ax.axhline(chance, color='grey', linestyle=':', linewidth=1,
                   label=f'chance ({chance:.1f} %)')


def save_json(data: Dict, path: str) -> str:
    os.makedirs(osp.dirname(osp.abspath(path)) or '.', exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f, indent=1)
    return path


def plot_flatness(results: Sequence[Dict], labels: Sequence[str],
                  path: str) -> str:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for result, label in zip(results, labels):
        rows = result['rows']
        ax.plot([r['radius'] for r in rows],
                [r['loss_increase'] for r in rows], marker='o', label=label)
    ax.set_xlabel('perturbation radius')
    ax.set_ylabel('loss increase')
    ax.set_title('Flatness (fused CE)')
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_noise(result: Dict, path: str) -> str:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    rows = result['rows']
    stds = [r['std'] for r in rows]
    for head in rows[0]['accuracy']:
        ax.plot(stds, [r['accuracy'][head] for r in rows], marker='o',
                label=head, linewidth=2.5 if head == 'fused' else 1.2)
    _chance(ax, [result.get('run')])
    ax.set_xlabel(f'noise std on {result["modality"]}')
    ax.set_ylabel('target accuracy (%)')
    ax.set_title(f'Robustness to {result["modality"]} noise\n'
                 f'{describe(result.get("run"))}', fontsize=8)
    ax.legend(fontsize=7)
    return _save(fig, path)


def plot_missing(result: Dict, path: str) -> str:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    rows = result['rows']
    names = ['none' if not r['removed'] else '-' + '-'.join(r['removed'])
             for r in rows]
    ax.bar(range(len(rows)), [r['accuracy']['fused'] for r in rows])
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(names, rotation=30, fontsize=7, ha='right')
    _chance(ax, [result.get('run')])
    if result.get('run'):
        ax.legend(fontsize=7)
    ax.set_ylabel('fused target accuracy (%)')
    ax.set_title('Missing modality (zeroed input)\n'
                 f'{describe(result.get("run"))}', fontsize=8)
    return _save(fig, path)


def plot_tsne(result: Dict, path: str) -> str:
    fig, ax = plt.subplots(figsize=(3.6, 3.4))
    points = result['points']
    ax.scatter([p[0] for p in points], [p[1] for p in points],
               c=result['labels'], cmap='tab10', s=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title('t-SNE of fused target embeddings\n'
                 f'{describe(result.get("run"))}', fontsize=8)
    return _save(fig, path)


def plot_curves(result: Dict, path: str) -> str:
    return _save(curves_figure(result), path)


def curves_figure(result: Dict):
    """The figure of :func:`plot_curves` (source-val and target per run,
    markers on short curves, the chance line, each run's method, target
    and model in the legend)."""
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for i, run in enumerate(result['runs']):
        color = f'C{i}'
        selected = run['selected']
        who = describe(run.get('run')) or selected
        for split, style in (('val', '-'), ('target', '--')):
            points = [(e, v) for e, v in zip(
                run['epochs'], run['curves'].get(f'{split}/{selected}')
                or []) if v is not None]
            if points:
                ax.plot(*zip(*points), style, color=color,
                        marker='o' if len(points) <= MARKER_POINTS else None,
                        markersize=3,
                        label=f'{run["label"]} {split}: {who}')
    _chance(ax, [run.get('run') for run in result['runs']])
    ax.set_xlabel('epoch')
    ax.set_ylabel('fused accuracy (%)')
    ax.set_title('Source-val (solid) and target (dashed)')
    ax.legend(fontsize=6)
    return fig


MODALITY_STYLES = {'rgb': ('video', '-'), 'flow': ('flow', ':'),
                   'audio': ('audio', '--')}


def _points(epochs, values):
    return [(e, v) for e, v in zip(epochs, values or []) if v is not None]


def _line(ax, points, style, color, label):
    if points:
        ax.plot(*zip(*points), style, color=color, label=label,
                marker='o' if len(points) <= MARKER_POINTS else None,
                markersize=2.5)


def _per_epoch_axes(ax, ylabel: str, title: str) -> None:
    ax.set_xlabel('epoch')
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if ax.lines:
        ax.legend(fontsize=6)


def mechanism_figures(result: Dict) -> Dict[str, object]:
    """The three figures of :func:`plot_mechanism`: ``modalities`` (each
    modality head's source-val accuracy per epoch, per run),
    ``dropout`` (the logged drop probability per modality, runs that log
    one) and ``teacher`` (fused source-val accuracy of teacher and
    student, and target where scored)."""
    runs = result['runs']
    figures = {}
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for i, run in enumerate(runs):
        for modality, values in run['modalities'].items():
            name, style = MODALITY_STYLES[modality]
            _line(ax, _points(run['epochs'], values), style, f'C{i}',
                  f"{run['label']} {name}")
    _chance(ax, [run.get('run') for run in runs])
    _per_epoch_axes(ax, 'source-val accuracy (%)',
                    'Each modality head on the sources\' validation')
    figures['modalities'] = fig
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for i, run in enumerate(runs):
        drop = run['drop']
        for modality in MODALITY_STYLES:
            name, style = MODALITY_STYLES[modality]
            _line(ax, _points(drop['epochs'], drop.get(modality)), style,
                  f'C{i}', f"{run['label']} {name}")
    _per_epoch_axes(ax, 'drop probability (mean of the epoch)',
                    'Adaptive modality dropout')
    if not ax.lines:
        ax.text(0.5, 0.5, 'no run logs a drop probability',
                ha='center', va='center', transform=ax.transAxes)
    figures['dropout'] = fig
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for i, run in enumerate(runs):
        for key, values in run['fused'].items():
            split, model = key.split('/')
            style = '-' if model == 'teacher' else '--'
            _line(ax, _points(run['epochs'], values),
                  style if split == 'val' else style[0] + '.',
                  f'C{i}' if split == 'val' else f'C{i + len(runs)}',
                  f"{run['label']} {model} ({split})")
    _chance(ax, [run.get('run') for run in runs])
    _per_epoch_axes(ax, 'fused accuracy (%)', 'Teacher vs student')
    figures['teacher'] = fig
    return figures


def plot_mechanism(result: Dict, prefix: str) -> Dict[str, str]:
    """``PREFIX_modalities.png``, ``PREFIX_dropout.png`` and
    ``PREFIX_teacher.png`` of :func:`mechanism_figures`."""
    return {name: _save(fig, f'{prefix}_{name}.png')
            for name, fig in mechanism_figures(result).items()}
