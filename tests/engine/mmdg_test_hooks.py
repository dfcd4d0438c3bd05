"""Test-only hooks, importable by name (``custom_imports``) when
``tests/engine`` is on ``sys.path`` / ``PYTHONPATH`` (also in subprocesses
started by ``tools/train.py`` or ``torchrun``)."""
import os
import signal
import signal as signal_module

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


@HOOKS.register_module(force=True)
class RankSkewedDrawHook(Hook):
    """Each iteration, rank r draws r + 1 numbers from Python's, numpy's and
    torch's generators: the ranks' random streams drift apart (as with
    ``--diff-rank-seed`` or data-dependent draws)."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        import random

        import numpy as np
        import torch
        from mmengine.dist import get_rank
        for _ in range(get_rank() + 1):
            random.random()
            np.random.rand()
            torch.rand(1)


@HOOKS.register_module(force=True)
class DumpRandomStateHook(Hook):
    """Writes each rank's random states when training starts (after a
    resume restored them): ``rng_start_rank<r>.pth``."""

    priority = 'LOWEST'

    def before_train(self, runner):
        import os.path as osp

        import torch
        from mmengine.dist import get_rank

        from mbcd_mmaction.engine.hooks.random_state_hook import \
            get_random_state
        name = f'rng_start_rank{get_rank()}.pth'
        torch.save(get_random_state(), osp.join(runner.work_dir, name))


@HOOKS.register_module(force=True)
class PoisonBatchHook(Hook):
    """Fills rank ``rank``'s inputs with NaN at iteration ``at_iter``
    (0-based): a non-finite loss on one rank only."""

    def __init__(self, at_iter: int, rank: int):
        self.at_iter, self.rank = at_iter, rank

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        from mmengine.dist import get_rank
        if runner.iter == self.at_iter and get_rank() == self.rank:
            data_batch['inputs'].fill_(float('nan'))


@HOOKS.register_module(force=True)
class SignalAtIterHook(Hook):
    """Sends ``signal`` to its own process at the start of training
    iteration ``at_iter`` (0-based, global), after that iteration's batch
    was loaded: a scheduler's SIGTERM in the middle of an epoch and of an
    iteration."""

    priority = 'HIGHEST'

    def __init__(self, at_iter: int, signal: str = 'SIGTERM'):
        self.at_iter = at_iter
        self.signal = getattr(signal_module, signal)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at_iter:
            os.kill(os.getpid(), self.signal)


@HOOKS.register_module(force=True)
class PauseAtIterHook(Hook):
    """At the start of training iteration ``at_iter`` creates
    ``<work_dir>/PAUSED`` and waits (at most ``timeout`` s) until
    ``<work_dir>/GO`` exists: a run caught in the middle of its training."""

    priority = 'HIGHEST'

    def __init__(self, at_iter: int, timeout: float = 300):
        self.at_iter = at_iter
        self.timeout = timeout

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter != self.at_iter:
            return
        import time
        open(os.path.join(runner.work_dir, 'PAUSED'), 'w').close()
        end = time.time() + self.timeout
        while not os.path.exists(os.path.join(runner.work_dir, 'GO')):
            if time.time() > end:
                raise TimeoutError('PauseAtIterHook: no GO file')
            time.sleep(0.05)


@HOOKS.register_module(force=True)
class StopAtIterHook(Hook):
    """Rank ``rank`` sends SIGSTOP to itself at the start of training
    iteration ``at_iter`` (0-based, global), after the other hooks of that
    point (``PeerWatchdogHook`` has recorded the iteration): a peer that
    stays alive but stops answering (Ctrl-Z, a frozen host). The test
    resumes or kills it."""

    priority = 'LOWEST'

    def __init__(self, at_iter: int, rank: int):
        self.at_iter, self.rank = at_iter, rank

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        from mmengine.dist import get_rank
        if runner.iter == self.at_iter and get_rank() == self.rank:
            os.kill(os.getpid(), signal.SIGSTOP)
