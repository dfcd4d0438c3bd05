"""Model selection applied offline to the validation log, DomainBed-style.

Torch-free (stdlib only): reads ``<work_dir>/eval_log.jsonl``, written by
:class:`mbcd_mmaction.engine.hooks.EvalLogHook` (one record per validation
with ``val`` and ``target`` metrics per model, ``teacher`` / ``student``).

* :class:`SourceValidation` (``'source_val'``, the default and the papers'
  rule): the epoch with the best source-validation accuracy; it is the
  epoch of the checkpoint that training keeps and tests
  (``SafeCheckpointHook(save_best=..., rule='greater')``). A tie goes to
  the later epoch, as in the authors' training scripts
  (``if currentvalAcc >= BestAcc``).
* :class:`Oracle` (``'oracle'``): the epoch with the best target accuracy,
  an upper bound that looks at the test data; report it separately and
  marked as such.
"""
import json
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

EVAL_LOG = 'eval_log.jsonl'
VAL_METRIC = 'acc/fused_top1'


def read_eval_log(path: str) -> List[Dict]:
    """The records of an ``eval_log.jsonl`` (a work dir or the file), one
    per epoch in epoch order; a resumed run's repeated epoch keeps its last
    record. A torn last line (a killed run) is ignored; any other
    unreadable line is an error naming the file and line."""
    if osp.isdir(path):
        path = osp.join(path, EVAL_LOG)
    with open(path) as f:
        lines = f.read().split('\n')
    by_epoch: Dict[int, Dict] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):  # no newline yet: being written
                break
            raise ValueError(f'{path}, line {number}: not JSON ({err})')
        by_epoch[int(record['epoch'])] = record
    return [by_epoch[e] for e in sorted(by_epoch)]


@dataclass(frozen=True)
class Selected:
    """What a selection rule picked."""
    rule: str
    model: str              # 'teacher' | 'student'
    epoch: int
    val_score: Optional[float]
    target_score: Optional[float]
    target_metrics: Dict


class SelectionMethod:
    """Picks one validation record; subclasses define :meth:`score`."""

    #: short name used on the command line and in captions
    name = ''
    #: caption text
    description = ''
    #: True if the rule looks at the target domain
    oracle = False

    def score(self, record: Dict, model: str, target_metric: str,
              val_metric: str) -> Optional[float]:
        raise NotImplementedError

    def select(self, records: Sequence[Dict],
               target_metric: str = VAL_METRIC,
               val_metric: str = VAL_METRIC,
               model: Optional[str] = None) -> Optional[Selected]:
        """The record with the highest :meth:`score`, the latest of tied
        ones (None if no record has one).

        Args:
            records: From :func:`read_eval_log`.
            target_metric: Key of the target metrics reported (the table
                cell), e.g. ``'acc/D2/fused_top1'``.
            val_metric: Key of the source-validation metric.
            model: ``'teacher'`` or ``'student'``; defaults to each
                record's ``selected`` model (the one the run validates and
                tests).
        """
        best, best_score = None, None
        for record in records:
            name = model or record.get('selected', 'student')
            score = self.score(record, name, target_metric, val_metric)
            if score is not None and (best_score is None or
                                      score >= best_score):
                best, best_score = (record, name), score
        if best is None:
            return None
        record, name = best
        target = record.get('target', {}).get(name) or {}
        val = record.get('val', {}).get(name) or {}
        return Selected(self.name, name, int(record['epoch']),
                        val.get(val_metric), target.get(target_metric),
                        target)


class SourceValidation(SelectionMethod):
    """Best source-validation accuracy (the papers' rule)."""

    name = 'source_val'
    description = ('model selection: best source-validation accuracy '
                   '(training-domain validation; the papers\' rule)')

    def score(self, record, model, target_metric, val_metric):
        return (record.get('val', {}).get(model) or {}).get(val_metric)


class Oracle(SelectionMethod):
    """Best target accuracy: looks at the test domain (an upper bound)."""

    name = 'oracle'
    description = ('model selection: ORACLE, best target accuracy over the '
                   'epochs (looks at the test domain; an upper bound, not '
                   'a result)')
    oracle = True

    def score(self, record, model, target_metric, val_metric):
        return (record.get('target', {}).get(model) or {}).get(
            target_metric)


SELECTIONS = {cls.name: cls() for cls in (SourceValidation, Oracle)}


def selection_summary(records: Sequence[Dict], best_epoch: Optional[int],
                      val_metric: str = VAL_METRIC) -> Dict:
    """How decided the source-validation selection was, and the last epoch
    beside it (a selection-free view), from :func:`read_eval_log` records.

    Returns ``dict(tied_epochs, num_tied, num_validations, last_epoch)``:
    ``tied_epochs`` are the epochs whose ``val_metric`` (of each record's
    ``selected`` model) equals the one of ``best_epoch`` (the selected
    checkpoint's epoch; the last of them is kept, so ``num_tied > 1``
    means the tie rule decided), ``last_epoch`` is ``dict(epoch, model,
    val, target)`` with the last record's source-validation and target
    metrics (``target`` empty when the log did not evaluate the target at
    that epoch). ``best_epoch`` missing from the records is a
    ``ValueError``.
    """
    if not records:
        raise ValueError('selection_summary: the eval log has no records')

    def val_of(record):
        model = record.get('selected', 'student')
        return (record.get('val', {}).get(model) or {}).get(val_metric)

    by_epoch = {int(r['epoch']): r for r in records}
    if best_epoch not in by_epoch:
        raise ValueError(f'selection_summary: the selected epoch '
                         f'{best_epoch!r} is not in the eval log (epochs '
                         f'{sorted(by_epoch)})')
    best = val_of(by_epoch[best_epoch])
    tied = [int(r['epoch']) for r in records
            if best is not None and val_of(r) == best]
    last = records[-1]
    model = last.get('selected', 'student')
    return dict(
        tied_epochs=tied, num_tied=len(tied), num_validations=len(records),
        last_epoch=dict(epoch=int(last['epoch']), model=model,
                        val=dict(last.get('val', {}).get(model) or {}),
                        target=dict(last.get('target', {}).get(model)
                                    or {})))
