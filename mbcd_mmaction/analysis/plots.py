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
    ax.set_xlabel(f'noise std on {result["modality"]}')
    ax.set_ylabel('target accuracy (%)')
    ax.set_title(f'Robustness to {result["modality"]} noise')
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
    ax.set_ylabel('fused target accuracy (%)')
    ax.set_title('Missing modality (zeroed input)')
    return _save(fig, path)


def plot_tsne(result: Dict, path: str) -> str:
    fig, ax = plt.subplots(figsize=(3.6, 3.4))
    points = result['points']
    ax.scatter([p[0] for p in points], [p[1] for p in points],
               c=result['labels'], cmap='tab10', s=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title('t-SNE of fused target embeddings')
    return _save(fig, path)


def plot_curves(result: Dict, path: str) -> str:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    for i, run in enumerate(result['runs']):
        color = f'C{i}'
        selected = run['selected']
        for split, style in (('val', '-'), ('target', '--')):
            values = run['curves'].get(f'{split}/{selected}')
            if values:
                ax.plot(run['epochs'], values, style, color=color,
                        label=f'{run["label"]} {split}')
    ax.set_xlabel('epoch')
    ax.set_ylabel('fused accuracy (%)')
    ax.set_title('Source-val (solid) and target (dashed)')
    ax.legend(fontsize=6)
    return _save(fig, path)
