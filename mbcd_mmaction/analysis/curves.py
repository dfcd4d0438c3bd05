"""Figure 5: source-validation and target accuracy per epoch, from the
``eval_log.jsonl`` of each run, and the mechanism behind it (per-modality
accuracy, drop probabilities, teacher vs student; torch-free)."""
import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mbcd_mmaction.experiments.selection import read_eval_log

METRIC = 'acc/fused_top1'


def split_curves(records: Sequence[Dict], metric: str) -> Dict[str, List]:
    """``{'<split>/<model>': [metric in % or None, one per record]}``: a
    model scored only on some epochs (``target_interval``) gets None on the
    others, so every curve lines up with the records' epochs."""
    curves: Dict[str, List] = {}
    for i, record in enumerate(records):
        for split in ('val', 'target'):
            for model, metrics in (record.get(split) or {}).items():
                value = (metrics or {}).get(metric)
                curves.setdefault(f'{split}/{model}', [None] * len(records))[
                    i] = None if value is None else 100.0 * value
    return curves


def training_curves(work_dirs: Sequence[str],
                    labels: Optional[Sequence[str]] = None,
                    metric: str = METRIC) -> Dict:
    """Per run: epochs, source-val and target ``metric`` (%) of the model
    the run validates (teacher if any), and of the student."""
    runs = []
    for i, work_dir in enumerate(work_dirs):
        records = read_eval_log(work_dir)
        if not records:
            raise ValueError(f'{work_dir}: eval_log.jsonl has no records')
        run = dict(work_dir=work_dir,
                   label=labels[i] if labels else work_dir,
                   selected=records[0].get('selected'), epochs=[],
                   curves={})
        run['epochs'] = [record['epoch'] for record in records]
        run['curves'] = split_curves(records, metric)
        runs.append(run)
    return dict(analysis='training_curves', metric=metric, runs=runs)


MODALITIES = ('rgb', 'flow', 'audio')


def _train_launches(work_dir: str) -> List[List[Dict]]:
    """The training records of mmengine's local vis backend, one list per
    launch of the run (``<work_dir>/<timestamp>/vis_data/scalars.json``,
    in time order)."""
    launches = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        records = []
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f'{path}: a line is not JSON '
                                     f'({error}): {line[:80]!r}') from None
                if 'epoch' in record and 'lr' in record:
                    records.append(record)
        launches.append(records)
    return launches


def drop_probabilities(work_dir: str) -> Dict[str, List]:
    """``{'epochs': [...], modality: [mean logged drop probability of the
    epoch, ...]}`` from the training log's ``<modality>_drop_prob``
    (MBCD's adaptive dropout; empty lists when the method logs none). A
    resumed run's later launch replaces the epochs it repeats."""
    by_epoch: Dict[int, Dict[str, List[float]]] = {}
    for records in _train_launches(work_dir):
        launch: Dict[int, Dict[str, List[float]]] = {}
        for record in records:
            epoch = launch.setdefault(int(record['epoch']), {})
            for modality in MODALITIES:
                key = f'{modality}_drop_prob'
                if key in record:
                    epoch.setdefault(modality, []).append(float(record[key]))
        by_epoch.update({e: v for e, v in launch.items() if v})
    epochs = sorted(by_epoch)
    out: Dict[str, List] = dict(epochs=epochs)
    for modality in MODALITIES:
        out[modality] = [
            sum(by_epoch[e][modality]) / len(by_epoch[e][modality])
            if by_epoch[e].get(modality) else None for e in epochs]
    return out


def mechanism_curves(work_dirs: Sequence[str],
                     labels: Optional[Sequence[str]] = None) -> Dict:
    """What the MBCD paper's argument is about, per run and epoch (%):
    the source-val accuracy of each modality's head (who converges first)
    of the model the run validates, the fused accuracy of teacher and
    student (source-val and, where scored, target), and the logged drop
    probability of each modality (:func:`drop_probabilities`)."""
    runs = []
    for i, work_dir in enumerate(work_dirs):
        records = read_eval_log(work_dir)
        if not records:
            raise ValueError(f'{work_dir}: eval_log.jsonl has no records')
        selected = records[0].get('selected')
        run = dict(work_dir=work_dir,
                   label=labels[i] if labels else work_dir,
                   selected=selected, epochs=[], modalities={}, fused={},
                   drop=drop_probabilities(work_dir))
        for record in records:
            run['epochs'].append(record['epoch'])
            val = (record.get('val') or {}).get(selected) or {}
            for modality in MODALITIES:
                value = val.get(f'acc/{modality}_top1')
                if value is not None or modality in run['modalities']:
                    run['modalities'].setdefault(modality, []).append(
                        None if value is None else 100.0 * value)
        run['fused'] = split_curves(records, METRIC)
        runs.append(run)
    return dict(analysis='mechanism', runs=runs)
