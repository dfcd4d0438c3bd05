"""Runner with crash-safe checkpoints and mid-epoch resume."""
import copy
import glob
import logging
import os
import os.path as osp
import re
from typing import Optional

import torch
from mmaction.registry import RUNNERS
from mmengine.dist import master_only
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop, Runner

from mbcd_mmaction.datasets.protocols import apply_experiment

from .atomic import commit, temp_path_for
from .integrity import (DamagedCheckpointError, NoResumableCheckpointError,
                        checkpoint_problem, file_sha256, is_local_path,
                        remove_checkpoint_digest, write_checkpoint_digest)
from .host_memory import retain_freed_host_memory
from .provenance import provenance_of
from .results import to_jsonable
from .loops import ResumableEpochBasedTrainLoop

_CKPT_NAME = re.compile(r'(?:epoch|iter)_(\d+)\.pth$')

#: Messages the console leaves to the log file: mmengine's environment,
#: full config and hook list (thousands of lines before the first
#: iteration) and its notices about its own deprecated internals.
FILE_ONLY_MESSAGES = ('\n' + '-' * 60 + '\nSystem environment:', 'Config:\n',
                      'Hooks will be executed in the following order:',
                      '"FileClient" will be deprecated',
                      '"HardDiskBackend" is the alias')


class _FileOnlyFilter(logging.Filter):
    """Drops :data:`FILE_ONLY_MESSAGES` from the handler it is added to."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(FILE_ONLY_MESSAGES)


def _experiment_summary(runner: 'MMDGRunner') -> str:
    """One paragraph: what this run trains and where its records go."""
    experiment = provenance_of(runner)['experiment'] or {}
    cfg = runner.cfg
    model = (cfg.get('model') or {}).get('type', '?')
    loop = cfg.get('train_cfg') or {}
    budget = (f"{loop['max_epochs']} epoch(s)" if 'max_epochs' in loop else
              f"{loop['max_iters']} iteration(s)" if 'max_iters' in loop
              else 'no training loop')
    batch = (cfg.get('train_dataloader') or {}).get('batch_size', '?')

    def domains(split):
        return '+'.join(map(str, (experiment.get(split) or {}).get(
            'domains') or ())) or '?'

    train, test = domains('train'), domains('test')
    modalities = experiment.get('modalities') or '?'
    if not isinstance(modalities, str):
        modalities = '+'.join(modalities)
    return (f'{osp.basename(cfg.filename or "config")}: {model}, protocol '
            f"{experiment.get('protocol', '?')}, train {train} -> test "
            f'{test}, modalities {modalities}, seed {runner.seed}, '
            f'{budget} of batch {batch} x {runner.world_size} process(es); '
            f'work dir {runner.work_dir}. The full config and environment '
            f'are in {runner.logger.log_file}.')


def _is_local(path: str, *backend_args) -> bool:
    return '://' not in str(path) and all(a is None for a in backend_args)


@RUNNERS.register_module()
class MMDGRunner(Runner):
    """mmengine ``Runner`` whose training survives being killed.

    * **Atomic checkpoints**: :meth:`save_checkpoint` writes to a hidden
      temporary file in the checkpoint directory, fsyncs it and renames it
      over the final name, so a checkpoint file is complete or absent, never
      half-written (mmengine 0.10.7 writes the final file in place).
      ``SafeCheckpointHook`` (configs/_base_/mmdg_runtime.py) also deletes
      outdated checkpoints only after the new one exists and rewrites
      ``last_checkpoint`` atomically.
    * **Checked checkpoints**: beside each checkpoint it writes a sha256
      file (``epoch_3.pth.sha256``), after the checkpoint is in place; every
      checkpoint loaded is verified first (the sha256, or without one the
      zip's CRCs: :mod:`.integrity`), and a damaged one is refused, named.
    * **Auto-resume that checks its file**: ``--resume`` without a path
      uses ``work_dir/last_checkpoint`` if it names an intact checkpoint,
      otherwise the newest intact ``epoch_*.pth`` / ``iter_*.pth`` /
      ``best_*_epoch_*.pth``; each
      damaged file skipped is named in a warning. If the work directory
      holds checkpoints but none of them can be resumed from, it stops with
      an error listing them (instead of training from the start over
      them); without any checkpoint it trains from the start.
    * **Mid-epoch resume**: an ``EpochBasedTrainLoop`` in the config is
      built as :class:`ResumableEpochBasedTrainLoop`, which skips the
      batches of the interrupted epoch that were already trained.

    * **Host memory kept for reuse on CPU**: ``env_cfg.retain_host_memory``
      (``'auto'``: when no GPU is present; True/False force it) applies
      :func:`retain_freed_host_memory` (glibc ``malloc`` keeps freed
      blocks, so an iteration does not fault its memory in again).
    * **The experiment is resolved when the runner is built**:
      :meth:`from_cfg` applies the protocol and the top-level variables
      (:func:`mbcd_mmaction.datasets.protocols.apply_experiment`), so
      ``--cfg-options protocol=single_source source_domain=D2`` works with
      every tool that builds the runner from the registry.

    Selected with ``runner_type = 'MMDGRunner'``. MMAction2's
    ``tools/train.py`` / ``tools/test.py`` (and ``mim train mmaction``)
    build ``RUNNERS.build(cfg)`` when the config has ``runner_type``, which
    calls :meth:`from_cfg`; so does ``mbcd_mmaction.apis``. mmengine's
    ``Runner.from_cfg`` called on the base class itself ignores
    ``runner_type`` (it builds a plain ``Runner``).
    """

    @classmethod
    def from_cfg(cls, cfg) -> 'MMDGRunner':
        """Build the runner from ``cfg`` (not modified) after
        :func:`apply_experiment` on a copy of it."""
        cfg = copy.deepcopy(cfg)
        apply_experiment(cfg)
        return super().from_cfg(cfg)

    def setup_env(self, env_cfg) -> None:
        super().setup_env(env_cfg)
        retain = env_cfg.get('retain_host_memory', 'auto')
        if retain not in ('auto', True, False):
            raise ValueError("env_cfg.retain_host_memory must be 'auto', "
                             f'True or False, got {retain!r}')
        if retain == 'auto':
            retain = not torch.cuda.is_available()
        self._host_memory = None if not retain else \
            'applied (glibc malloc)' if retain_freed_host_memory() else \
            'not applied (the C library is not glibc)'

    def build_logger(self, *args, **kwargs):
        # setup_env runs before the logger exists.
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            if not isinstance(handler, logging.FileHandler):  # the console
                handler.addFilter(_FileOnlyFilter())
        if self._host_memory is not None:
            logger.info('host memory: freed blocks kept for reuse: '
                        f'{self._host_memory}')
        return logger

    def _log_env(self, env_cfg: dict) -> None:
        super()._log_env(env_cfg)  # to the log file (_FileOnlyFilter)
        self.logger.info(_experiment_summary(self))

    def build_train_loop(self, loop):
        if isinstance(loop, dict) and loop.get('type', None) in (
                'EpochBasedTrainLoop', EpochBasedTrainLoop):
            loop = dict(loop, type=ResumableEpochBasedTrainLoop)
        return self._log_data_size('training', super().build_train_loop(loop))

    def build_val_loop(self, loop):
        return self._log_data_size('validation', super().build_val_loop(loop))

    def build_test_loop(self, loop):
        return self._log_data_size('test', super().build_test_loop(loop))

    def _log_data_size(self, split: str, loop):
        """One line with the split's size, when its loop is built (before
        its first iteration)."""
        loader = getattr(loop, 'dataloader', None)
        if loader is not None and hasattr(loader.dataset, '__len__'):
            self.logger.info(
                f'{split} data: {len(loader.dataset)} samples, '
                f'{len(loader)} batches of {loader.batch_size}')
        return loop

    @master_only
    def save_checkpoint(self, out_dir: str, filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None):
        # what the weights were trained for: a resume checks it
        meta = dict(meta or {},
                    experiment=provenance_of(self)['experiment'])
        kwargs = dict(file_client_args=file_client_args,
                      save_optimizer=save_optimizer,
                      save_param_scheduler=save_param_scheduler, meta=meta,
                      by_epoch=by_epoch, backend_args=backend_args)
        if not _is_local(out_dir, file_client_args, backend_args):
            return super().save_checkpoint(out_dir, filename, **kwargs)
        os.makedirs(out_dir, exist_ok=True)
        final = osp.join(out_dir, filename)
        tmp = temp_path_for(final)
        try:
            super().save_checkpoint(out_dir, osp.basename(tmp), **kwargs)
            digest = file_sha256(tmp)
            # the sha256 file of a file replaced goes first: a crash between
            # the two renames leaves a checkpoint without one (checked by its
            # CRCs then), never one with another file's digest
            remove_checkpoint_digest(final)
            commit(tmp, final)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise
        write_checkpoint_digest(final, digest)

    def _auto_resume_checkpoint(self) -> Optional[str]:
        """The checkpoint ``--resume`` (no path) continues from: the one
        ``last_checkpoint`` names (its copy in this work directory first),
        else the newest intact ``*epoch_<n>.pth`` / ``*iter_<n>.pth`` (best
        checkpoints too: they are saved in full). Damaged
        files are skipped, each named in a warning. None when the work
        directory holds no checkpoint; :class:`NoResumableCheckpointError`
        listing the files when it holds some and none can be resumed from.
        """
        work_dir = self.work_dir
        pointer = osp.join(work_dir, 'last_checkpoint')
        named = here = None
        order = []
        if osp.isfile(pointer):
            with open(pointer) as f:
                named = f.read().strip() or None
        if named:
            # a copied work directory names the original's files: resume
            # from the copy here
            here = osp.join(work_dir, osp.basename(named))
            if osp.abspath(named) != osp.abspath(here):
                order.append(here)
            order.append(named)
        files = sorted((p for p in glob.glob(osp.join(work_dir, '*.pth'))
                        if _CKPT_NAME.search(osp.basename(p))),
                       key=lambda p: (os.stat(p).st_mtime_ns, p),
                       reverse=True)
        skipped = []
        for path in dict.fromkeys(order + files):
            if not osp.isfile(path):
                continue
            problem = checkpoint_problem(path)
            if problem is not None:
                skipped.append((path, problem))
                print_log(f'Not resuming from {path}: {problem}.',
                          logger='current', level=logging.WARNING)
                continue
            if path == here and here != named:
                print_log(f'last_checkpoint names {named}, outside this work '
                          f'directory; resuming from its copy here, {here}.',
                          logger='current')
            elif path != named:
                print_log(
                    (f'last_checkpoint names {named}, which is not an intact '
                     'checkpoint' if named else 'No last_checkpoint') +
                    f'; resuming from the newest intact one, {path}.',
                    logger='current',
                    level=logging.WARNING if named else logging.INFO)
            return path
        if not skipped:
            return None
        lines = [f'  {p}: {problem}' for p, problem in skipped]
        raise NoResumableCheckpointError(
            f'--resume: no checkpoint in {work_dir} can be resumed from, '
            'and training from the start would overwrite them:\n' +
            '\n'.join(lines) + '\nResume from an intact checkpoint with '
            '--resume PATH, or start over in another --work-dir (or delete '
            'these files).')

    def resume(self, filename: str, *args, **kwargs) -> None:
        self._resuming_from = filename
        try:
            super().resume(filename, *args, **kwargs)
        finally:
            self._resuming_from = None

    def load_checkpoint(self, filename: str, *args, **kwargs):
        checkpoint = super().load_checkpoint(filename, *args, **kwargs)
        if getattr(self, '_resuming_from', None) == filename:
            self._check_resumed_experiment(filename, checkpoint)
        return checkpoint

    def _check_resumed_experiment(self, filename: str, checkpoint) -> None:
        """Refuse to continue a run under another protocol: a resumed D1
        run given ``target_domain=D2`` would report a D2 result for weights
        trained on D2."""
        saved = ((checkpoint or {}).get('meta', None) or {}).get(
            'experiment', None)
        if not saved:
            return  # written by another tool: nothing to compare
        now = provenance_of(self)['experiment']
        differ = {k: (saved.get(k), now.get(k)) for k in now
                  if to_jsonable(saved.get(k)) != to_jsonable(now.get(k))}
        if differ:
            raise ValueError(
                f'--resume {filename}: the checkpoint was trained for '
                + '; '.join(f'{k}={a!r}' for k, (a, _) in differ.items())
                + ', this run asks for '
                + '; '.join(f'{k}={b!r}' for k, (_, b) in differ.items())
                + '. Resume with the options the run was started with, or '
                'start the new experiment in its own --work-dir.')

    def _check_checkpoint_to_load(self) -> None:
        """Decide what ``load_or_resume`` loads and verify it, when the
        runner is built (before anything but the log is written to the work
        directory): the auto-resume checkpoint
        (:meth:`_auto_resume_checkpoint`), else ``load_from`` (``--resume
        PATH`` or a config's ``load_from``), refused, named, if damaged."""
        if self._has_loaded or getattr(self, '_checked_load', False):
            return
        if self._resume and self._load_from is None:
            path = self._auto_resume_checkpoint()
            if path is None:
                print_log('No checkpoint to resume from in '
                          f'{self.work_dir}: training from the start.',
                          logger='current')
                self._resume = False
            else:
                self._load_from = path
        elif self._load_from is not None and is_local_path(self._load_from):
            what = '--resume' if self._resume else 'load_from'
            problem = checkpoint_problem(self._load_from)
            if problem is not None:
                raise DamagedCheckpointError(
                    f'Cannot load checkpoint {self._load_from} ({what}): '
                    f'{problem}.')
        self._checked_load = True

    def dump_config(self) -> None:
        # the last step of Runner.__init__, its first write into work_dir
        # (after the log): a run that cannot load what it was asked to
        # stops before it writes anything else
        self._check_checkpoint_to_load()
        super().dump_config()

    def load_or_resume(self) -> None:
        self._check_checkpoint_to_load()
        return super().load_or_resume()
