"""CheckpointHook that never leaves the run without a loadable checkpoint,
and can save resumable checkpoints in the middle of an epoch."""
import os
import os.path as osp
import shutil

from mmaction.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log

from ..runner.atomic import atomic_write_bytes, commit, temp_path_for
from ..runner.integrity import (checkpoint_problem, digest_path,
                                remove_checkpoint_digest,
                                write_checkpoint_digest)


class _DeferredRemove:
    """File backend proxy that records ``remove`` calls instead of doing
    them (so an old checkpoint goes only once its successor exists)."""

    def __init__(self, backend, pending):
        self._backend = backend
        self._pending = pending

    def remove(self, path):
        self._pending.append(path)

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments and file names) with:

    * **save, then prune**: mmengine 0.10.7 deletes the oldest kept
      checkpoint (``max_keep_ckpts``) and the previous best checkpoint
      *before* writing the new one; with ``max_keep_ckpts=1`` a kill during
      the save left no checkpoint at all. Here outdated files are removed
      only after the new file is complete (``MMDGRunner.save_checkpoint``
      writes atomically), and ``last_checkpoint`` is replaced atomically.
      A checkpoint's sha256 file (``<name>.pth.sha256``) is removed and
      copied with it.
    * **iteration checkpoints inside epochs** (``iter_interval=N``, with
      ``by_epoch=True``): every N training iterations a full, resumable
      checkpoint ``iter_<global iter>.pth`` is written (model with the EMA
      teacher, optimiser, schedulers, message hub, random states); only the
      newest one is kept and it is deleted once the epoch's checkpoint
      exists. ``meta.epoch`` is the number of completed epochs and
      ``meta.iter`` the iterations done, so ``MMDGRunner`` resumes inside
      the epoch (``ResumableEpochBasedTrainLoop``). 0 turns them off.
    * **ties keep the later epoch** for ``save_best`` (``rule='greater'``:
      ``>=`` instead of mmengine's ``>``).
    """

    #: ties go to the later checkpoint (mmengine compares strictly): the
    #: authors' training scripts keep the newest best
    #: (``if currentvalAcc >= BestAcc``), so with a saturated source
    #: validation the selected epoch is the last of the tied ones
    rule_map = {'greater': lambda x, y: x >= y,
                'less': lambda x, y: x <= y}

    def __init__(self, *args, iter_interval: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        if iter_interval < 0:
            raise ValueError(
                f'iter_interval must be >= 0, got {iter_interval}')
        self.iter_interval = iter_interval

    # -- helpers -------------------------------------------------------------
    def _own(self, path) -> bool:
        """Whether ``path`` is a file of this run's checkpoint directory."""
        return osp.dirname(osp.abspath(str(path))) == \
            osp.abspath(str(self.out_dir))

    def _remove(self, path) -> None:
        if not path or not is_main_process():
            return
        if not self._own(path):
            # e.g. the best checkpoint of the run a copied work directory
            # came from: a run deletes files in its own directory only.
            print_log(f'Not removing {path}: it is outside this run\'s '
                      f'checkpoint directory {self.out_dir}.',
                      logger='current', level=30)
            return
        if self.file_backend.isfile(path):
            # the sha256 file first: never one without its checkpoint
            remove_checkpoint_digest(str(path))
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            self.file_backend.rmtree(path)

    def _iter_ckpt_path(self, runner):
        # The message hub keeps the file name only (as mmengine keeps step
        # numbers): a run resumed from another directory's checkpoint never
        # deletes files there.
        name = runner.message_hub.get_info('last_iter_ckpt', None)
        return self.file_backend.join_path(self.out_dir, name) if name \
            else None

    def _point_last_checkpoint(self, runner, path) -> None:
        if is_main_process():
            atomic_write_bytes(osp.join(runner.work_dir, 'last_checkpoint'),
                               str(path).encode())

    def _rebase_best_checkpoints(self, runner) -> None:
        """Point the best-checkpoint records restored from a checkpoint of
        another directory (``--resume`` of another run's file, or of a copied
        work directory) at this run's checkpoint directory.

        mmengine keeps absolute paths in the message hub: resumed elsewhere,
        the run would delete the other directory's best checkpoint when
        validation improves, and test that file at the end. The record
        becomes the file of the same name here: the copy a copied directory
        has, else a copy made now (rank 0), so the best checkpoint of the
        run is always in its own directory. If the file exists nowhere the
        record is dropped (the best score is kept: only a better epoch is
        saved as best).
        """
        hub = runner.message_hub
        keys = [k for k in list(hub.runtime_info)
                if k == 'best_ckpt' or k.startswith('best_ckpt_')]
        for key in keys:
            path = hub.get_info(key)
            if not path or self._own(path):
                continue
            here = self.file_backend.join_path(self.out_dir,
                                               osp.basename(str(path)))
            new = here
            if osp.isfile(here):
                note = f'its copy here, {here}'
            elif osp.isfile(str(path)):
                problem = checkpoint_problem(str(path))
                if problem is not None:
                    new, note = None, (
                        f'no best checkpoint (that file is damaged: '
                        f'{problem}; only a better epoch will be saved as '
                        'best)')
                elif is_main_process():
                    os.makedirs(str(self.out_dir), exist_ok=True)
                    tmp = temp_path_for(here)
                    shutil.copyfile(str(path), tmp)
                    remove_checkpoint_digest(here)
                    commit(tmp, here)
                    # the original's digest, if it has one: a copy damaged
                    # in copying is found when it is loaded
                    source = digest_path(str(path))
                    if osp.isfile(source):
                        with open(source, 'rb') as f:
                            atomic_write_bytes(digest_path(here), f.read())
                    else:
                        write_checkpoint_digest(here)
                if problem is None:
                    note = f'a copy of it made here, {here}'
            else:
                new, note = None, ('no best checkpoint (the file does not '
                                   'exist; only a better epoch will be saved '
                                   'as best)')
            runner.logger.warning(
                f'The resumed run recorded the best checkpoint {path}, '
                'outside this run\'s checkpoint directory '
                f'{self.out_dir}; using {note}. This run never removes or '
                'tests files outside its own directory.')
            hub.update_info(key, new)
            if key == 'best_ckpt':
                self.best_ckpt_path = new
            elif hasattr(self, 'best_ckpt_path_dict'):
                self.best_ckpt_path_dict[key[len('best_ckpt_'):]] = new

    # -- mmengine overrides --------------------------------------------------
    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self.save_best is not None:
            self._rebase_best_checkpoints(runner)

    def _save_checkpoint_with_step(self, runner, step, meta):
        """As mmengine 0.10.7's, but the outdated checkpoint is removed after
        the new one is written and ``last_checkpoint`` is atomic."""
        outdated = None
        if self.max_keep_ckpts > 0:
            if not (len(self.keep_ckpt_ids) > 0
                    and self.keep_ckpt_ids[-1] == step):
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    _step = self.keep_ckpt_ids.popleft()
                    outdated = self.file_backend.join_path(
                        self.out_dir, self.filename_tmpl.format(_step))
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids',
                                               list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        stale_iter_ckpt = self._iter_ckpt_path(runner)
        if self.by_epoch:
            runner.message_hub.update_info('last_iter_ckpt', None)

        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args,
            **self.args)

        if not is_main_process():
            return
        self._point_last_checkpoint(runner, self.last_ckpt)
        if outdated != self.last_ckpt:
            self._remove(outdated)
        if self.by_epoch and stale_iter_ckpt != self.last_ckpt:
            self._remove(stale_iter_ckpt)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        pending = []
        backend = self.file_backend
        self.file_backend = _DeferredRemove(backend, pending)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        keep = {runner.message_hub.get_info('best_ckpt', None), self.last_ckpt,
                *getattr(self, 'best_ckpt_path_dict', {}).values()}
        for path in pending:
            if path not in keep:
                self._remove(path)

    # -- iteration checkpoints inside epochs ---------------------------------
    def _epoch_checkpoint_follows(self, runner, batch_idx) -> bool:
        last_batch = batch_idx + 1 == len(runner.train_dataloader)
        return last_batch and (
            self.every_n_epochs(runner, self.interval, self.save_begin)
            or (self.save_last and self.is_last_train_epoch(runner)))

    def save_iter_checkpoint(self, runner) -> str:
        """Write the resumable mid-epoch checkpoint ``iter_<n>.pth``."""
        step = runner.iter + 1
        filename = f'iter_{step}.pth'
        path = self.file_backend.join_path(self.out_dir, filename)
        previous = self._iter_ckpt_path(runner)
        runner.message_hub.update_info('last_iter_ckpt', filename)
        runner.logger.info(f'Saving resumable checkpoint at iteration {step} '
                           f'(epoch {runner.epoch + 1}) to {filename}')
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args,
            save_optimizer=True, save_param_scheduler=True,
            meta=dict(epoch=runner.epoch, iter=step), by_epoch=False,
            backend_args=self.backend_args)
        if is_main_process():
            self._point_last_checkpoint(runner, path)
            if previous != path:
                self._remove(previous)
        return path

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        if (self.by_epoch and self.iter_interval > 0
                and (runner.iter + 1) % self.iter_interval == 0
                and not self._epoch_checkpoint_follows(runner, batch_idx)):
            self.save_iter_checkpoint(runner)
