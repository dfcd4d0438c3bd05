"""Runner with crash-safe checkpoints and mid-epoch resume."""
import copy
import glob
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

from .atomic import commit, is_complete_checkpoint, temp_path_for
from .host_memory import retain_freed_host_memory
from .provenance import provenance_of
from .results import to_jsonable
from .loops import ResumableEpochBasedTrainLoop

_CKPT_NAME = re.compile(r'(?:epoch|iter)_(\d+)\.pth$')


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
    * **Auto-resume that checks its file**: ``--resume`` without a path
      uses ``work_dir/last_checkpoint`` if it names a complete checkpoint,
      otherwise the newest complete ``epoch_*.pth`` / ``iter_*.pth``.
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
        if self._host_memory is not None:
            logger.info('host memory: freed blocks kept for reuse: '
                        f'{self._host_memory}')
        return logger

    def build_train_loop(self, loop):
        if isinstance(loop, dict) and loop.get('type', None) in (
                'EpochBasedTrainLoop', EpochBasedTrainLoop):
            loop = dict(loop, type=ResumableEpochBasedTrainLoop)
        return super().build_train_loop(loop)

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
            commit(tmp, final)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise

    def _auto_resume_checkpoint(self) -> Optional[str]:
        """The checkpoint ``--resume`` (no path) continues from."""
        work_dir = self.work_dir
        pointer = osp.join(work_dir, 'last_checkpoint')
        named = None
        if osp.isfile(pointer):
            with open(pointer) as f:
                named = f.read().strip()
            # a copied work directory names the original's files: resume
            # from the copy here
            here = osp.join(work_dir, osp.basename(named))
            if osp.abspath(named) != osp.abspath(here) and \
                    is_complete_checkpoint(here):
                print_log(f'last_checkpoint names {named}, outside this work '
                          f'directory; resuming from its copy here, {here}.',
                          logger='current')
                return here
            if is_complete_checkpoint(named):
                return named
        candidates = [p for p in glob.glob(osp.join(work_dir, '*.pth'))
                      if _CKPT_NAME.search(osp.basename(p))
                      and is_complete_checkpoint(p)]
        if not candidates:
            return None
        latest = max(candidates, key=lambda p: (os.stat(p).st_mtime_ns, p))
        print_log(
            f'last_checkpoint names {named!r}, which is not a complete '
            f'checkpoint; resuming from the newest complete one, {latest}.',
            logger='current')
        return latest

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

    def load_or_resume(self) -> None:
        if not self._has_loaded and self._resume and self._load_from is None:
            path = self._auto_resume_checkpoint()
            if path is None:
                print_log('No checkpoint to resume from in '
                          f'{self.work_dir}: training from the start.',
                          logger='current')
                self._resume = False
            else:
                self._load_from = path
        return super().load_or_resume()
