"""One JSON line per validation: source-val and target accuracy, for the
student and the teacher, so model selection can be done offline."""
import copy
import json
import os
import os.path as osp
import random
from contextlib import contextmanager
from typing import Dict, List, Optional

import numpy as np
import torch
from mmaction.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

from mbcd_mmaction.engine.runner.provenance import provenance_of
from mbcd_mmaction.engine.runner.results import to_jsonable
from mbcd_mmaction.experiments.selection import EVAL_LOG, read_eval_log


@contextmanager
def _preserved_rng():
    """Restore every random stream afterwards: the target evaluation must
    not change the training that follows (a ``DataLoader`` iterator draws
    its base seed from torch's global generator), so a run trains the same
    with the log on or off, and resumes equal."""
    states = (torch.get_rng_state(), np.random.get_state(), random.getstate(),
              torch.cuda.get_rng_state_all() if torch.cuda.is_available()
              else None)
    try:
        yield
    finally:
        torch.set_rng_state(states[0])
        np.random.set_state(states[1])
        random.setstate(states[2])
        if states[3] is not None:
            torch.cuda.set_rng_state_all(states[3])


def _by_epoch(runner) -> bool:
    """Whether the run's training loop counts epochs (True also when no
    loop is built: a validation outside training)."""
    loop = getattr(runner, '_train_loop', None)
    return not isinstance(loop, BaseLoop) or hasattr(loop, 'max_epochs')


@HOOKS.register_module()
class EvalLogHook(Hook):
    """After every validation, appends one JSON line to
    ``<work_dir>/eval_log.jsonl``::

        {"epoch": 3, "iter": 24, "selected": "teacher",
         "val":    {"teacher": {"acc/fused_top1": ..., "acc/rgb_top1": ...},
                    "student": {...}},
         "target": {"teacher": {...}, "student": {...}},
         "run":    {"experiment": {"protocol": ..., "train": ..., "test": ...,
                                   "modalities": ...},
                    "options": {...}, "seed": 0, "version": ...,
                    "git_commit": ...}}

    ``val`` is the source validation split (the metrics of the run's own
    ``ValLoop`` for the model it evaluates, ``selected``), ``target`` the
    test split (the target domains; per-domain keys ``acc/<domain>/...``
    when the test evaluator is ``DomainAccMetric``). A model with an EMA
    teacher (``model.teacher`` not None) is evaluated as both teacher and
    student by switching its ``evaluate_with`` attribute; other models
    appear as ``student``. Model selection (source-validation, oracle) is
    then applied offline by :mod:`mbcd_mmaction.experiments.selection`;
    training still keeps and tests the source-validation checkpoint.

    Every random stream is restored after the extra evaluations, so the
    training is identical with the hook on or off.

    Args:
        filename (str): File name in the work dir. Defaults to
            'eval_log.jsonl'.
        evaluate_target (bool): Evaluate the target (test) split at each
            validation. Defaults to True.
        evaluate_student (bool): Also evaluate the student of a model with a
            teacher (one more pass over each split). Defaults to True.
        target_interval (int): Evaluate the target (and the other
            models' source-val) at every ``target_interval``-th validation
            of training, mmengine's every-N convention (validations N, 2N,
            ...), and always at the last one; the others log the ValLoop's
            metrics only. Counted from the loop's progress, so a resumed
            run scores the same validations. Defaults to 1.
    """

    priority = 'LOW'

    def __init__(self, filename: str = EVAL_LOG, evaluate_target: bool = True,
                 evaluate_student: bool = True,
                 target_interval: int = 1) -> None:
        if not isinstance(target_interval, int) or target_interval < 1:
            raise ValueError('EvalLogHook: target_interval must be a '
                             f'positive integer, got {target_interval!r}')
        self.filename = filename
        self.evaluate_target = evaluate_target
        self.evaluate_student = evaluate_student
        self.target_interval = target_interval
        self._built = {}  # loader key -> (dataloader, evaluator) or None

    # -- helpers ---------------------------------------------------------
    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _variants(self, model) -> List[str]:
        """Models to evaluate, the ValLoop's one first."""
        if getattr(model, 'teacher', None) is None:
            return ['student']
        selected = getattr(model, 'evaluate_with', 'teacher')
        other = 'student' if selected == 'teacher' else 'teacher'
        return [selected, other] if self.evaluate_student else [selected]

    def _loader(self, runner, loader_key: str, evaluator_key: str):
        """(dataloader, evaluator) of ``runner.cfg``'s keys, built once."""
        if loader_key not in self._built:
            self._built[loader_key] = self._build(runner, loader_key,
                                                  evaluator_key)
        return self._built[loader_key]

    @staticmethod
    def _send_to_visualizer(runner, record: Dict) -> None:
        """The target metrics (and the other model's source-val) to the
        run's visualisation backends (TensorBoard, W&B, mmengine's local
        scalars file), at the epoch (iteration) of the validation:
        ``target/<model>/<metric>``, ``val/<model>/<metric>``. The
        ValLoop's own metrics are logged by mmengine already."""
        scalars = {f'{split}/{model}/{key}': value
                   for split in ('target', 'val')
                   for model, metrics in record[split].items()
                   if split == 'target' or model != record['selected']
                   for key, value in metrics.items()
                   if isinstance(value, (int, float))}
        visualizer = getattr(runner, 'visualizer', None)
        if scalars and visualizer is not None:
            step = runner.epoch if _by_epoch(runner) else runner.iter
            visualizer.add_scalars(scalars, step=step)

    @staticmethod
    def _run_record(runner) -> Dict:
        """The run's protocol, options, seed and code version
        (:func:`~mbcd_mmaction.engine.runner.provenance.provenance_of`)."""
        provenance = provenance_of(runner)
        code = provenance['code']
        return dict(experiment=provenance['experiment'],
                    options=provenance['options'], seed=provenance['seed'],
                    version=code['mbcd_mmaction'],
                    git_commit=code['git_commit'])

    def _scores_target(self, runner) -> bool:
        """Whether this validation is a ``target_interval``-th one of the
        training loop (or its last, or a validation outside training)."""
        loop = getattr(runner, '_train_loop', None)
        if self.target_interval == 1 or not isinstance(loop, BaseLoop) or \
                not hasattr(loop, 'val_interval'):
            return True
        by_epoch = _by_epoch(runner)
        done = runner.epoch if by_epoch else runner.iter
        end = loop.max_epochs if by_epoch else loop.max_iters
        if done >= end:
            return True
        # validations so far: mmengine validates at multiples of
        # val_interval from val_begin on
        interval, begin = loop.val_interval, getattr(loop, 'val_begin', 1)
        number = done // interval - (max(begin, 1) - 1) // interval
        return number % self.target_interval == 0

    @staticmethod
    def _build(runner, loader_key: str, evaluator_key: str):
        loader_cfg = runner.cfg.get(loader_key, None)
        evaluator_cfg = runner.cfg.get(evaluator_key, None)
        if not loader_cfg or not evaluator_cfg:
            return None
        loader = runner.build_dataloader(
            copy.deepcopy(loader_cfg), seed=runner.seed,
            diff_rank_seed=(runner.cfg.get('randomness', None) or {}).get(
                'diff_rank_seed', False))
        evaluator = runner.build_evaluator(copy.deepcopy(evaluator_cfg))
        if hasattr(loader.dataset, 'metainfo'):
            evaluator.dataset_meta = loader.dataset.metainfo
        return loader, evaluator

    @staticmethod
    @torch.no_grad()
    def _evaluate(runner, loader, evaluator) -> Dict:
        runner.model.eval()
        for data_batch in loader:
            outputs = runner.model.val_step(data_batch)
            evaluator.process(data_samples=outputs, data_batch=data_batch)
        return evaluator.evaluate(len(loader.dataset))

    @contextmanager
    def _evaluating_with(self, model, variant: str):
        if getattr(model, 'teacher', None) is None:
            yield
            return
        before = model.evaluate_with
        model.evaluate_with = variant
        try:
            yield
        finally:
            model.evaluate_with = before

    def _carry_resumed_records(self, runner) -> None:
        """A run resumed from another work directory's checkpoint starts
        its eval log with that directory's records up to the resumed
        point, so the log (and the selection report that reads it) covers
        every epoch of the run, as an uninterrupted run's does."""
        load_from = getattr(runner, '_load_from', None)
        if not getattr(runner, '_resume', False) or not load_from or \
                not osp.isfile(load_from) or not is_main_process():
            return
        source_dir = osp.dirname(osp.abspath(load_from))
        if source_dir == osp.abspath(runner.work_dir):
            return
        source = osp.join(source_dir, self.filename)
        if not osp.isfile(source):
            runner.logger.warning(
                f'EvalLogHook: the run resumed from {load_from}, whose '
                f'directory has no {self.filename}: the epochs before the '
                'resumed one are not in this run\'s eval log.')
            return
        key, done = ('epoch', runner.epoch) if _by_epoch(runner) \
            else ('iter', runner.iter)
        path = osp.join(runner.work_dir, self.filename)
        have = {int(r[key]) for r in read_eval_log(path)} \
            if osp.isfile(path) else set()
        carried = [r for r in read_eval_log(source)
                   if int(r[key]) <= done and int(r[key]) not in have]
        if not carried:
            return
        os.makedirs(runner.work_dir, exist_ok=True)
        with open(path, 'a') as f:
            f.write(''.join(json.dumps(r) + '\n' for r in carried))
            f.flush()
            os.fsync(f.fileno())
        runner.logger.info(
            f'EvalLogHook: {len(carried)} record(s) of {source} ({key}s '
            f'{", ".join(str(r[key]) for r in carried)}) start this run\'s '
            'eval log (the run resumed from that directory\'s checkpoint).')

    # -- hook --------------------------------------------------------------
    def before_train(self, runner) -> None:
        self._carry_resumed_records(runner)

    def after_val_epoch(self, runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        model = self._model(runner)
        variants = self._variants(model)
        record = dict(epoch=runner.epoch, iter=runner.iter,
                      selected=variants[0],
                      val={variants[0]: dict(metrics or {})}, target={},
                      run=self._run_record(runner))
        if self._scores_target(runner):
            with _preserved_rng():
                source = self._loader(runner, 'val_dataloader',
                                      'val_evaluator') \
                    if len(variants) > 1 else None
                for variant in variants[1:] if source else ():
                    with self._evaluating_with(model, variant):
                        record['val'][variant] = self._evaluate(
                            runner, *source)
                target = self._loader(runner, 'test_dataloader',
                                      'test_evaluator') \
                    if self.evaluate_target else None
                for variant in variants if target else ():
                    with self._evaluating_with(model, variant):
                        record['target'][variant] = self._evaluate(
                            runner, *target)
        self._send_to_visualizer(runner, record)
        if is_main_process():
            path = osp.join(runner.work_dir, self.filename)
            os.makedirs(runner.work_dir, exist_ok=True)
            with open(path, 'a') as f:
                f.write(json.dumps(to_jsonable(record)) + '\n')
                f.flush()
                os.fsync(f.fileno())
