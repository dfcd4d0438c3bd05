"""Test-only hooks, importable by name (``custom_imports``) when
``tests/engine`` is on ``sys.path`` / ``PYTHONPATH`` (also in subprocesses
started by ``tools/train.py`` or ``torchrun``)."""
import os
import signal

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module(force=True)
class KillAtIterHook(Hook):
    """SIGKILLs its own process at the start of training iteration
    ``at_iter`` (0-based, global), after that iteration's batch was loaded:
    an interruption in the middle of an epoch and of an iteration. Nothing
    is cleaned up, as with a machine failure or the OOM killer."""

    priority = 'HIGHEST'

    def __init__(self, at_iter: int):
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at_iter:
            os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module(force=True)
class TrainableBatchNormEvalHook(Hook):
    """Puts every BatchNorm of the model in eval mode at each iteration
    (after the loop's ``model.train()``): normalisation with the running
    statistics, identical whatever the per-rank batch. Stand-in for SyncBN
    in the CPU DDP-equivalence test: torch's SyncBatchNorm refuses CPU
    tensors."""

    priority = 'HIGHEST'

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.eval()
