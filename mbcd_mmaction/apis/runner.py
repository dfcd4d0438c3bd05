"""Train / test entry points and the paper's model-selection rule.

Model selection (SimMMDG protocol, used by MBCD): train on the source
domains, keep the checkpoint with the best *source validation* metric, and
report that checkpoint's metrics on the *target* domain (the test split).
The best checkpoint is the one mmengine's ``CheckpointHook(save_best=...)``
recorded: in mmengine 0.10.7 ``CheckpointHook._save_best_checkpoint`` stores
its path in the message hub's runtime info under ``'best_ckpt'`` (or
``'best_ckpt_<metric>'`` when ``save_best`` lists several metrics) and the
score under ``'best_score'`` / ``'best_score_<metric>'``; the hook keeps the
same path in ``best_ckpt_path`` (``best_ckpt_path_dict``).
"""
import copy
import logging
import os
import os.path as osp
import re
import sys
from datetime import datetime
from typing import Optional, Sequence, Tuple

import torch.distributed as dist
from mmengine.config import Config
from mmengine.dist import barrier, is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

from mbcd_mmaction.engine.hooks.non_finite_loss_hook import (
    NonFiniteOutputHook, check_finite_weights)
from mbcd_mmaction.engine.runner.results import write_json_atomic

from .config import config_name
from .device import init_distributed

TARGET_RESULTS = 'target_results.json'
TEST_RESULTS = 'test_results.json'


def _abspath(path):
    return osp.abspath(path) if path else path


class ModelSelectionError(RuntimeError):
    """The best source-validation checkpoint cannot be determined."""


def build_runner(cfg: Config) -> Runner:
    """Start the CPU process group if needed, then build the Runner
    (``cfg.runner_type`` from mmaction's registry if set)."""
    init_distributed(cfg)
    if not cfg.get('experiment_name', None):
        # mmengine names the run (and its message hub, which holds the best
        # checkpoint) after the config and the second: two runs of one
        # config started in the same second in one process would share a
        # message hub, and the second would test the first's checkpoint.
        cfg.experiment_name = (f'{config_name(cfg) or "run"}_'
                               f'{datetime.now():%Y%m%d_%H%M%S_%f}')
    if 'runner_type' in cfg:
        from mmaction.registry import RUNNERS
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def _is_checkpoint_hook_type(hook_type) -> bool:
    """``CheckpointHook`` or a subclass (e.g. ``SafeCheckpointHook``)."""
    if isinstance(hook_type, type):
        return issubclass(hook_type, CheckpointHook)
    name = str(hook_type or '')
    if name.split('.')[-1] == 'CheckpointHook':
        return True
    from mmaction.registry import HOOKS
    try:
        cls = HOOKS.get(name)
    except Exception:  # noqa: BLE001 - unknown scope: not ours to judge
        cls = None
    return isinstance(cls, type) and issubclass(cls, CheckpointHook)


def _save_best_of_cfg(cfg) -> Optional[list]:
    hook = (cfg.get('default_hooks', None) or {}).get('checkpoint', None)
    candidates = [hook] + list(cfg.get('custom_hooks', None) or [])
    for h in candidates:
        if h and _is_checkpoint_hook_type(h.get('type', None)):
            save_best = h.get('save_best', None)
            if save_best:
                return [save_best] if isinstance(save_best, str) \
                    else list(save_best)
    return None


def check_model_selection_cfg(cfg: Config) -> None:
    """Refuse configs with which the best source-val checkpoint cannot be
    selected, before any training time is spent."""
    if not _save_best_of_cfg(cfg):
        raise ModelSelectionError(
            'The config has no `default_hooks.checkpoint.save_best`: the '
            'best source-validation checkpoint cannot be selected, and '
            'testing the last weights instead is not the protocol. Set e.g. '
            "default_hooks = dict(checkpoint=dict(type='CheckpointHook', "
            "save_best='auto', rule='greater')).")
    missing = [k for k in ('val_dataloader', 'val_cfg', 'val_evaluator')
               if cfg.get(k, None) is None]
    if missing:
        raise ModelSelectionError(
            f'The config lacks {missing}: without source validation there '
            'is no best checkpoint to test on the target domain.')


def _checkpoint_hook(runner: Runner) -> CheckpointHook:
    hooks = [h for h in runner.hooks if isinstance(h, CheckpointHook)]
    if not hooks or not hooks[0].save_best:
        raise ModelSelectionError(
            'No CheckpointHook with `save_best` in this runner: the best '
            'source-validation checkpoint was never recorded. Set '
            "default_hooks.checkpoint.save_best (e.g. 'auto').")
    return hooks[0]


def find_best_checkpoint(runner: Runner) -> Tuple[str, str, object]:
    """(path, metric name, score) of the best checkpoint that the
    CheckpointHook recorded in this run (first metric if several)."""
    hook = _checkpoint_hook(runner)
    info = runner.message_hub.runtime_info
    keys = list(getattr(hook, 'key_indicators', hook.save_best))
    if len(keys) == 1:
        ckpt_key, score_key = 'best_ckpt', 'best_score'
    else:
        ckpt_key, score_key = f'best_ckpt_{keys[0]}', f'best_score_{keys[0]}'
    path = info.get(ckpt_key, None)
    if path is None:
        path = getattr(hook, 'best_ckpt_path', None) or getattr(
            hook, 'best_ckpt_path_dict', {}).get(keys[0])
    if not path:
        raise ModelSelectionError(
            'The CheckpointHook recorded no best checkpoint (did validation '
            'run? check val_interval and max_epochs). Refusing to test the '
            'last weights instead.')
    out_dir = getattr(hook, 'out_dir', None)
    if out_dir and osp.dirname(osp.abspath(path)) != osp.abspath(out_dir):
        raise ModelSelectionError(
            f'The recorded best checkpoint {path} is outside this run\'s '
            f'checkpoint directory {out_dir} (a run resumed from a copied '
            'work directory?); refusing to test another run\'s file.')
    metric = keys[0]
    if metric == 'auto':  # resolved on the first validation
        m = re.match(r'best_(.+)_(?:epoch|iter)_\d+\.pth$', osp.basename(path))
        metric = m.group(1) if m else metric
    return path, metric, info.get(score_key, None)


def test_best_checkpoint(runner: Runner,
                         out_file: str = TARGET_RESULTS) -> dict:
    """Load the best source-validation checkpoint of ``runner`` and test it
    on the test split (the target domain); write ``<work_dir>/out_file``.

    Raises :class:`ModelSelectionError` when no best checkpoint exists.
    Returns the results dict (on every rank).
    """
    path, metric, score = find_best_checkpoint(runner)
    barrier()  # rank 0 saved the file
    if not osp.isfile(path):
        raise ModelSelectionError(f'Best checkpoint {path} does not exist.')
    checkpoint = runner.load_checkpoint(path, map_location='cpu',
                                        strict=True)
    check_finite_weights(runner.model, path)
    meta = (checkpoint or {}).get('meta', {}) or {}
    epoch = meta.get('epoch', None)
    iteration = meta.get('iter', None)
    return _test_and_record(
        runner, out_file, path, best_checkpoint=osp.abspath(path),
        best_val_metric=metric, best_val_score=score, best_epoch=epoch,
        best_iter=iteration,
        selection=_selection_summary(runner, epoch, metric))


def _selection_summary(runner: Runner, best_epoch, metric: str):
    """:func:`~mbcd_mmaction.experiments.selection.selection_summary` of
    the run's eval log (the epochs tied at the selected score, the last
    epoch's metrics); None when the run has no :class:`EvalLogHook` or on
    ranks other than 0 (which write no results)."""
    from mbcd_mmaction.engine.hooks.eval_log_hook import EvalLogHook
    from mbcd_mmaction.experiments.selection import (read_eval_log,
                                                     selection_summary)
    hooks = [h for h in runner.hooks if isinstance(h, EvalLogHook)]
    if not hooks or not is_main_process():
        return None
    path = osp.join(runner.work_dir, hooks[0].filename)
    return selection_summary(read_eval_log(path), best_epoch, metric)


def _test_and_record(runner: Runner, out_file: str, loaded: str,
                     **fields) -> dict:
    """``runner.test()`` of the ``loaded`` checkpoint (non-finite outputs
    stop it); its metrics, ``fields`` and the run's identity are written to
    ``<work_dir>/out_file`` and returned."""
    runner.register_hook(NonFiniteOutputHook(checkpoint=loaded),
                         priority='VERY_HIGH')
    metrics = runner.test()
    cfg = runner.cfg
    results = dict(
        **fields,
        target_domain=cfg.get('target_domain', None),
        test_metrics=metrics,
        config=config_name(cfg),
        config_file=_abspath(getattr(cfg, 'filename', None)),
        work_dir=runner.work_dir,
        seed=runner.seed,
    )
    write_json_atomic(osp.join(runner.work_dir, out_file), results)
    return results


class WorkDirInUseError(FileExistsError):
    """The work directory holds another run's checkpoints or results."""


#: Files that mark a work directory as holding a (finished or started) run.
_RUN_FILES = ('last_checkpoint', TARGET_RESULTS)
_CKPT_FILE = re.compile(r'^(?:epoch|iter|best)_.*\.pth$')


def check_work_dir_free(cfg: Config, out_file: Optional[str] = None) -> None:
    """Refuse to start a run whose work directory holds another run.

    Training (``out_file`` None) refuses a ``work_dir`` with
    ``last_checkpoint``, ``target_results.json`` or checkpoints unless the
    run resumes (``--resume``): a second run of a config would otherwise
    overwrite the first one's checkpoints and results in
    ``work_dirs/<config>``. Testing refuses an existing
    ``<work_dir>/out_file``.
    """
    work_dir = cfg.get('work_dir', None)
    if not work_dir or not osp.isdir(work_dir):
        return
    if out_file is not None:
        found = [out_file] if osp.exists(osp.join(work_dir, out_file)) \
            else []
        way_out = ('Give this test its own directory (--work-dir DIR) or '
                   f'delete {osp.join(work_dir, out_file)}.')
    else:
        if cfg.get('resume', False):
            return
        names = sorted(os.listdir(work_dir))
        found = [n for n in names if n in _RUN_FILES] + \
            [n for n in names if _CKPT_FILE.match(n)]
        way_out = ('Continue that run with --resume, give this one its own '
                   'directory (--work-dir DIR), or delete the directory.')
    if found:
        raise WorkDirInUseError(
            f'work_dir {work_dir} already holds another run\'s '
            f'{", ".join(found[:5])}{" ..." if len(found) > 5 else ""}: '
            f'this run would overwrite them. {way_out}')


def _num_classes_keys(node, prefix: str):
    """``(dotted key, value)`` of every integer ``num_classes`` in a
    model config."""
    if isinstance(node, dict):
        for key, value in node.items():
            name = f'{prefix}.{key}'
            if key == 'num_classes' and isinstance(value, int):
                yield name, value
            else:
                yield from _num_classes_keys(value, name)
    elif isinstance(node, (list, tuple)):
        for i, item in enumerate(node):
            yield from _num_classes_keys(item, f'{prefix}[{i}]')


def _describe_dataset(dataset_cfg) -> str:
    return ', '.join(f'{k}={dataset_cfg[k]!r}' for k in
                     ('type', 'domains', 'split', 'ann_file', 'data_root')
                     if dataset_cfg.get(k, None) not in (None, ''))


def check_datasets(cfg: Config, loaders: Sequence[str] = (
        'train_dataloader', 'val_dataloader', 'test_dataloader')) -> None:
    """Build the dataset of every dataloader the run needs, before the
    first iteration, and refuse what would fail later: a split that is
    missing (the dataset's own error) or empty (the target split is read
    only after training), or a label outside ``0..num_classes-1`` (torch's
    ``IndexError: Target 5 is out of bounds`` deep in the loss otherwise).
    Needs the default scope of a built Runner.
    """
    from mmengine.registry import DATASETS
    class_keys = list(_num_classes_keys(cfg.get('model', None) or {},
                                        'model'))
    for key in loaders:
        loader = cfg.get(key, None)
        if not loader:
            continue
        dataset_cfg = copy.deepcopy(loader['dataset'])
        dataset = DATASETS.build(dataset_cfg)
        if len(dataset) == 0:
            raise ValueError(
                f'{key}.dataset ({_describe_dataset(dataset_cfg)}) has no '
                'samples; the run needs it (checked before training, so no '
                'time is spent on a run that cannot be evaluated).')
        if not class_keys or not hasattr(dataset, 'get_data_info'):
            continue
        smallest_key, smallest = min(class_keys, key=lambda kv: kv[1])
        for idx in range(len(dataset)):
            info = dataset.get_data_info(idx)
            label = info.get('label', None)
            if isinstance(label, int) and not 0 <= label < smallest:
                source = info.get('ann_file', None) or \
                    getattr(dataset, 'ann_file', None) or \
                    _describe_dataset(dataset_cfg)
                raise ValueError(
                    f'{source}: sample uid={info.get("uid", idx)!r} has '
                    f'label {label}, but the config sets {smallest_key}='
                    f'{smallest} (labels 0..{smallest - 1}; {key}). Set '
                    'num_classes to the number of classes of the data (the '
                    'top-level `num_classes` of the config where it has '
                    'one).')


def train(cfg: Config) -> dict:
    """Train on the source domains, then :func:`test_best_checkpoint`.

    Before the first iteration: the model-selection settings, the work
    directory (:func:`check_work_dir_free`) and every split the run reads
    (:func:`check_datasets`) are checked.
    """
    check_model_selection_cfg(cfg)
    check_work_dir_free(cfg)
    runner = build_runner(cfg)
    check_datasets(cfg)
    runner.train()
    return test_best_checkpoint(runner)


def test(cfg: Config, checkpoint: Optional[str] = None,
         out_file: str = TEST_RESULTS, strict: bool = True) -> dict:
    """Test ``checkpoint`` (default ``cfg.load_from``) on the test split and
    write ``<work_dir>/out_file`` (refused if it exists).

    Args:
        strict (bool): A checkpoint whose keys or shapes do not match the
            config's model is an error (``tools/test.py
            --allow-key-mismatch`` turns this off: mismatches are then only
            logged, and the unmatched weights keep their initial values).
    """
    if checkpoint is not None:
        cfg.load_from = checkpoint
        cfg.resume = False
    if not cfg.get('load_from', None):
        raise ValueError('test() needs a checkpoint')
    check_work_dir_free(cfg, out_file)
    runner = build_runner(cfg)
    check_datasets(cfg, ('test_dataloader', ))
    path = cfg.load_from
    runner.load_checkpoint(path, map_location='cpu', strict=strict)
    check_finite_weights(runner.model, path)
    return _test_and_record(runner, out_file, path,
                            checkpoint=osp.abspath(path))


def shutdown_distributed(succeeded: bool = False) -> None:
    """Destroy the process group before the interpreter exits; left to
    interpreter teardown, gloo's threads sometimes abort the process
    ("terminate called without an active exception", exit code -6) after
    a run that succeeded.

    Args:
        succeeded: The run finished and wrote its results. A distributed
            process then ends here (``os._exit(0)`` after flushing its
            output): even after the barrier and ``destroy_process_group``
            the teardown still aborted a 2-process CPU run now and then
            (once in a test suite run under load), failing a finished run.
            Python's exit handlers do not run then: the runner has closed
            its logs and written its results; persistent dataloader
            workers end on their own watchdog (a few seconds).
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    # every rank first finishes its own work (rank 0 writes the results)
    dist.barrier()
    dist.destroy_process_group()
    if succeeded:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


# not pytest tests, although named test*
test.__test__ = False
test_best_checkpoint.__test__ = False
