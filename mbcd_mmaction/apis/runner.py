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
from mmengine.logging import print_log
from mmengine.runner import Runner

from mbcd_mmaction.datasets.protocols import check_optimizer_cfg
from mbcd_mmaction.engine.hooks.non_finite_loss_hook import (
    NonFiniteOutputHook, check_finite_weights)
from mbcd_mmaction.engine.runner.integrity import (file_sha256,
                                                   is_local_path,
                                                   verify_checkpoint)
from mbcd_mmaction.engine.runner.provenance import (provenance_of,
                                                    run_provenance)
from mbcd_mmaction.engine.runner.results import write_json_atomic
from mbcd_mmaction.work_dir_lock import (WorkDirLock, WorkDirLockedError,  # noqa: F401
                                         distributed_rank)

from .config import check_launcher, config_name
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
    check_launcher(cfg.get('launcher', None))
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
    selected, before any training time is spent.

    mmengine's own ``CheckpointHook`` in ``default_hooks`` becomes
    :class:`~mbcd_mmaction.engine.hooks.SafeCheckpointHook` (same
    arguments): the selection rule of every method is that a tie goes to
    the later epoch, which mmengine's strict comparison does not do.
    """
    if not _save_best_of_cfg(cfg):
        raise ModelSelectionError(
            'The config has no `default_hooks.checkpoint.save_best`: the '
            'best source-validation checkpoint cannot be selected, and '
            'testing the last weights instead is not the protocol. Set e.g. '
            "default_hooks = dict(checkpoint=dict(type='SafeCheckpointHook', "
            "save_best='auto', rule='greater')).")
    hook = (cfg.get('default_hooks', None) or {}).get('checkpoint', None)
    if hook and hook.get('type', None) in (
            'CheckpointHook', 'mmengine.CheckpointHook', CheckpointHook):
        # scoped: found from configs without default_scope='mmaction' too
        hook['type'] = 'mmaction.SafeCheckpointHook'
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

    Raises :class:`ModelSelectionError` when no best checkpoint exists,
    :class:`~mbcd_mmaction.engine.runner.integrity.DamagedCheckpointError`
    when it is damaged.
    Returns the results dict (on every rank).
    """
    path, metric, score = find_best_checkpoint(runner)
    barrier()  # rank 0 saved the file
    if not osp.isfile(path):
        raise ModelSelectionError(f'Best checkpoint {path} does not exist.')
    verify_checkpoint(path)  # damaged: refused, named (torch checks nothing)
    checkpoint = runner.load_checkpoint(path, map_location='cpu',
                                        strict=True)
    check_finite_weights(runner.model, path)
    meta = (checkpoint or {}).get('meta', {}) or {}
    epoch = meta.get('epoch', None)
    iteration = meta.get('iter', None)
    return _test_and_record(
        runner, out_file, path, best_checkpoint=osp.abspath(path),
        best_val_metric=metric, best_val_score=score, best_epoch=epoch,
        best_iter=iteration, selection=dict(
            rule=f'best source-validation {metric} ({_rule_of(runner)}); '
            'a tie goes to the later epoch', metric=metric,
            **(_selection_summary(runner, epoch, metric) or {})))


def _rule_of(runner: Runner) -> str:
    """The checkpoint hook's comparison rule of its first key indicator
    ('greater' or 'less')."""
    rules = getattr(_checkpoint_hook(runner), 'rules', None) or []
    return rules[0] if rules and rules[0] else 'greater'


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
    provenance = provenance_of(runner)
    results = dict(
        **fields,
        checkpoint_sha256=file_sha256(loaded),
        target_domain=cfg.get('target_domain', None),
        test_metrics=metrics,
        config=config_name(cfg),
        config_file=_abspath(getattr(cfg, 'filename', None)),
        work_dir=runner.work_dir,
        seed=runner.seed,
        **{k: v for k, v in provenance.items()
           if k not in ('seed', 'config_file')},
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
    ``<work_dir>/out_file`` of another checkpoint or config; the same test
    run again (same config file, checkpoint path and checkpoint sha256)
    replaces it.
    """
    work_dir = cfg.get('work_dir', None)
    if not work_dir or not osp.isdir(work_dir):
        return
    if out_file is not None:
        path = osp.join(work_dir, out_file)
        found = [out_file] if osp.exists(path) and \
            not _same_test(path, cfg) else []
        way_out = ('Give this test its own directory (--work-dir DIR) or '
                   f'delete {path}.')
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


def _same_test(results_file: str, cfg: Config) -> bool:
    """Whether ``results_file`` holds the test ``cfg`` asks for again."""
    import json
    try:
        with open(results_file) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        return False
    checkpoint = cfg.get('load_from', None)
    return bool(checkpoint) and osp.isfile(checkpoint) and \
        previous.get('checkpoint') == osp.abspath(checkpoint) and \
        previous.get('config_file') == _abspath(
            getattr(cfg, 'filename', None)) and \
        previous.get('checkpoint_sha256') == file_sha256(checkpoint)


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
        if not hasattr(dataset, 'get_data_info'):
            continue
        if not dataset_cfg.get('skip_unreadable', False):
            _check_media_exist(key, dataset)
        if not class_keys:
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


#: data_info keys of the media a sample reads: (modality, kind)
_MEDIA_KEYS = {'rgb_dir': ('rgb', 'dir'), 'flow_dirs': ('flow', 'dir'),
               'rgb_videos': ('rgb', 'file'), 'flow_videos': ('flow', 'file'),
               'audio_path': ('audio', 'file')}


def _check_media_exist(loader_key: str, dataset) -> None:
    """Every frame folder, video and wav the samples name exists (one
    ``stat`` per distinct path), so a missing flow folder stops the run
    before training, not at the first batch that needs it."""
    seen, missing = set(), []
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        for key, (modality, kind) in _MEDIA_KEYS.items():
            paths = info.get(key, None)
            for path in [paths] if isinstance(paths, str) else paths or ():
                if path in seen:
                    continue
                seen.add(path)
                exists = osp.isdir(path) if kind == 'dir' else \
                    osp.isfile(path)
                if not exists:
                    missing.append((modality, kind, path, info))
    if missing:
        modality, kind, path, info = missing[0]
        raise FileNotFoundError(
            f'{loader_key}: the {modality} {"folder" if kind == "dir" else "file"}'
            f' {path} of sample uid={info.get("uid", "?")!r} (domain '
            f'{info.get("domain", "?")!r}) does not exist; {len(missing)} '
            f'media path(s) of this split are missing. Check data_root and '
            'the modalities, run python tools/data/check_dataset.py CONFIG '
            'for the full list, or set '
            f'{loader_key}.dataset.skip_unreadable=True to skip such '
            'samples (counted in the log).')


def _attach_provenance(runner: Runner, cfg: Config,
                       request: Optional[dict]) -> None:
    runner.mmdg_provenance = run_provenance(cfg, request, runner.seed)


def work_dir_lock(cfg: Config, what: str) -> WorkDirLock:
    """The exclusive lock of ``cfg.work_dir`` (``run.lock``), to be taken
    (``with``) before anything is written there; taking it raises
    :class:`WorkDirLockedError` naming the holder (pid, host, since) when
    another live process has it.

    In a distributed run only rank 0 takes it (its rank from the
    launcher's environment: the process group does not exist yet); the
    other ranks write nothing before rank 0 has it, and the launcher ends
    them when rank 0 fails.
    """
    work_dir = cfg.get('work_dir', None)
    return WorkDirLock(work_dir or '.', what=what, enabled=bool(
        work_dir) and distributed_rank(cfg.get('launcher', None)) == 0)


def train(cfg: Config, request: Optional[dict] = None) -> dict:
    """Train on the source domains, then :func:`test_best_checkpoint`.

    Before the first iteration: the model-selection settings, the
    optimizer's learning rate (:func:`~mbcd_mmaction.datasets.protocols.
    check_optimizer_cfg`), the work directory's lock
    (:func:`work_dir_lock`, held until the test of the best checkpoint is
    written), the work
    directory (:func:`check_work_dir_free`) and every split the run reads
    (:func:`check_datasets`) are checked.

    Args:
        request (dict, optional): The command line's request
            (:func:`~mbcd_mmaction.apis.config.run_request`), recorded with
            the results.
    """
    check_model_selection_cfg(cfg)
    check_optimizer_cfg(cfg)
    with work_dir_lock(cfg, 'this training'):
        check_work_dir_free(cfg)
        runner = build_runner(cfg)
        _attach_provenance(runner, cfg, request)
        check_datasets(cfg)
        runner.train()
        results = test_best_checkpoint(runner)
    if is_main_process():
        print_log(run_summary(results, osp.join(runner.work_dir,
                                                TARGET_RESULTS)),
                  logger='current')
    return results


def run_summary(results: dict, results_file: str) -> str:
    """The block a training run ends with: the selected checkpoint, its
    source-validation score, the target metrics and where they are."""
    experiment = results.get('experiment', None) or {}
    test = (experiment.get('test', None) or {}).get('domains', None)
    score = results.get('best_val_score', None)
    lines = ['', '=' * 60,
             f"selected: epoch {results.get('best_epoch')} "
             f"({osp.basename(str(results.get('best_checkpoint')))}), "
             f"source-val {results.get('best_val_metric')} = "
             + (f'{100 * score:.2f} %' if isinstance(score, (int, float))
                else str(score)),
             f'target {test or results.get("target_domain")}:']
    for key, value in sorted((results.get('test_metrics') or {}).items()):
        if isinstance(value, (int, float)) and 'top1' in key:
            lines.append(f'  {key:<28} {100 * value:6.2f} %')
    lines += [f'results: {results_file}', '=' * 60]
    return '\n'.join(lines)


def test(cfg: Config, checkpoint: Optional[str] = None,
         out_file: str = TEST_RESULTS, strict: bool = True,
         request: Optional[dict] = None) -> dict:
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
    path = cfg.load_from
    if is_local_path(path) and osp.exists(path):
        # before anything is written (the lock file included); torch.load
        # would read a damaged file
        verify_checkpoint(path)
    with work_dir_lock(cfg, 'this test'):
        check_work_dir_free(cfg, out_file)
        runner = build_runner(cfg)
        _attach_provenance(runner, cfg, request)
        check_datasets(cfg, ('test_dataloader', ))
        try:
            runner.load_checkpoint(path, map_location='cpu', strict=strict)
        except RuntimeError as err:
            if 'do not match exactly' not in str(err):
                raise
            raise CheckpointMismatchError(
                explain_key_mismatch(path, cfg, str(err))) from None
        check_finite_weights(runner.model, path)
        return _test_and_record(runner, out_file, path,
                                checkpoint=osp.abspath(path))


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the config's model."""


#: what a checkpoint's extra or missing top-level key group says about it
_KEY_HINTS = {
    'teacher': 'an averaged teacher (an EMA, MBCD or CMRF checkpoint)',
    'translation': 'cross-modal translators (a SimMMDG or MOOSA '
                   'checkpoint)',
    'jigsaw': 'a jigsaw head (a MOOSA checkpoint)',
}


def _key_groups(keys: Sequence[str]) -> str:
    """A few keys by name, many by their top-level group and count."""
    if len(keys) <= 4:
        return ', '.join(keys)
    counts: dict = {}
    for key in keys:
        counts[key.split('.')[0]] = counts.get(key.split('.')[0], 0) + 1
    return ', '.join(f'{name}.* ({n})' for name, n in sorted(
        counts.items(), key=lambda item: -item[1]))


def _keys_after(message: str, head: str) -> list:
    for line in message.splitlines():
        if line.startswith(head):
            return [k.strip() for k in line[len(head):].split(',')
                    if k.strip()]
    return []


def explain_key_mismatch(path: str, cfg: Config, message: str) -> str:
    """A short account of mmengine's strict-loading error: which
    checkpoint, which config, the key groups that differ and what they
    suggest the checkpoint is."""
    unexpected = _keys_after(message, 'unexpected key in source state_dict:')
    missing = _keys_after(message, 'missing keys in source state_dict:')
    shapes = [line.split('size mismatch for ')[1].split(':')[0]
              for line in message.splitlines()
              if 'size mismatch for ' in line]
    parts = []
    if unexpected:
        parts.append(f'{len(unexpected)} key(s) the model lacks: '
                     f'{_key_groups(unexpected)}')
    if missing:
        parts.append(f'{len(missing)} key(s) of the model it lacks: '
                     f'{_key_groups(missing)}')
    if shapes:
        parts.append(f'{len(shapes)} weight(s) of another shape: '
                     f'{", ".join(shapes[:3])}{" ..." if len(shapes) > 3 else ""}'
                     ' (another num_classes or encoder?)')
    hints = [f'it has {name}.* keys: {what}' for name, what in
             _KEY_HINTS.items() if any(k.startswith(name + '.')
                                       for k in unexpected)]
    hints += [f'it lacks the {name}.* keys of this config\'s model, which '
              f'has {what.split(" (")[0]}' for name, what in _KEY_HINTS.items()
              if any(k.startswith(name + '.') for k in missing)]
    model_type = (cfg.get('model', None) or {}).get('type', None)
    return (f'The checkpoint {path} does not fit the model of '
            f"{getattr(cfg, 'filename', None) or 'this config'} "
            f'(model.type={model_type!r}): ' + '; '.join(parts) + '.'
            + (f' So {"; ".join(hints)}.' if hints else '')
            + ' Test it with the config it was trained with, or pass '
            '--allow-key-mismatch to load the weights that match (the '
            'others keep their initial values).')


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
