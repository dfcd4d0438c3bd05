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
import os.path as osp
import re
from datetime import datetime
from typing import Optional, Tuple

import torch.distributed as dist
from mmengine.config import Config
from mmengine.dist import barrier
from mmengine.hooks import CheckpointHook
from mmengine.runner import Runner

from .config import config_name
from .device import init_distributed
from .results import write_json_atomic

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
    checkpoint = runner.load_checkpoint(path, map_location='cpu')
    meta = (checkpoint or {}).get('meta', {}) or {}
    epoch = meta.get('epoch', None)
    iteration = meta.get('iter', None)
    return _test_and_record(
        runner, out_file, best_checkpoint=osp.abspath(path),
        best_val_metric=metric, best_val_score=score, best_epoch=epoch,
        best_iter=iteration)


def _test_and_record(runner: Runner, out_file: str, **fields) -> dict:
    """``runner.test()``; its metrics, ``fields`` and the run's identity
    are written to ``<work_dir>/out_file`` and returned."""
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


def train(cfg: Config) -> dict:
    """Train on the source domains, then :func:`test_best_checkpoint`."""
    check_model_selection_cfg(cfg)
    runner = build_runner(cfg)
    runner.train()
    return test_best_checkpoint(runner)


def test(cfg: Config, checkpoint: Optional[str] = None,
         out_file: str = TEST_RESULTS) -> dict:
    """Test ``checkpoint`` (default ``cfg.load_from``) on the test split and
    write ``<work_dir>/out_file``."""
    if checkpoint is not None:
        cfg.load_from = checkpoint
        cfg.resume = False
    if not cfg.get('load_from', None):
        raise ValueError('test() needs a checkpoint')
    return _test_and_record(build_runner(cfg), out_file,
                            checkpoint=osp.abspath(cfg.load_from))


def shutdown_distributed() -> None:
    """Destroy the process group before the interpreter exits; left to
    interpreter teardown, gloo's threads sometimes abort the process
    ("terminate called without an active exception", exit code -6) after
    a run that succeeded."""
    if dist.is_available() and dist.is_initialized():
        # every rank first finishes its own work (rank 0 writes the results)
        dist.barrier()
        dist.destroy_process_group()


# not pytest tests, although named test*
test.__test__ = False
test_best_checkpoint.__test__ = False
