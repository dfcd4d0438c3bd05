"""A test-only hook for the sweep tests (importable by name through
``custom_imports`` when this directory is on ``PYTHONPATH``)."""
import os
import os.path as osp
import signal

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module(force=True)
class EpochMarkerHook(Hook):
    """After each training epoch (and its checkpoint), appends ``<pid>
    <epoch>`` to ``<work_dir>/epochs.txt``; if ``<work_dir>/KILL_AT_<epoch>``
    exists, removes it and SIGKILLs its own process (a run killed mid-way,
    after the epoch's checkpoint)."""

    priority = 'LOWEST'  # after CheckpointHook (VERY_LOW) saved the epoch

    def after_train_epoch(self, runner):
        epoch = runner.epoch + 1  # as the log and epoch_<n>.pth count
        with open(osp.join(runner.work_dir, 'epochs.txt'), 'a') as f:
            f.write(f'{os.getpid()} {epoch}\n')
        flag = osp.join(runner.work_dir, f'KILL_AT_{epoch}')
        if osp.exists(flag):
            os.remove(flag)
            os.kill(os.getpid(), signal.SIGKILL)
