"""Figure 5: source-validation and target accuracy per epoch, from the
``eval_log.jsonl`` of each run (torch-free)."""
from typing import Dict, Optional, Sequence

from mbcd_mmaction.experiments.selection import read_eval_log

METRIC = 'acc/fused_top1'


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
        for record in records:
            run['epochs'].append(record['epoch'])
            for split in ('val', 'target'):
                for model, metrics in (record.get(split) or {}).items():
                    value = (metrics or {}).get(metric)
                    run['curves'].setdefault(f'{split}/{model}', []).append(
                        None if value is None else 100.0 * value)
        runs.append(run)
    return dict(analysis='training_curves', metric=metric, runs=runs)
