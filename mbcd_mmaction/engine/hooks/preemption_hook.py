"""Stop training on SIGTERM / SIGUSR1 with a resumable checkpoint."""
import signal
import threading
from typing import Optional, Sequence

import torch
from mmaction.registry import HOOKS
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook

from .checkpoint_hook import SafeCheckpointHook


class Preempted(SystemExit):
    """Training stopped by a signal after writing a resumable checkpoint;
    the process exits with ``128 + signal number`` (143 for SIGTERM)."""


@HOOKS.register_module()
class PreemptionCheckpointHook(Hook):
    """On SIGTERM (what Slurm and other schedulers send before preempting
    or at the time limit) or SIGUSR1 (``sbatch --signal=USR1@<seconds>``),
    finish the current training iteration, write a resumable checkpoint
    ``iter_<n>.pth`` (``SafeCheckpointHook.save_iter_checkpoint``: the same
    file as ``iter_interval``, with the position inside the epoch), point
    ``last_checkpoint`` at it, log it and exit with status ``128 + signal``
    (143 for SIGTERM, 138 for SIGUSR1). ``--resume`` then continues exactly
    where the run stopped.

    The signal handler only sets a flag; the hook reads it after each
    training iteration (after every other hook of the iteration: the EMA
    teacher is updated, the logger has written). In a distributed run the
    flag is summed over the ranks at every iteration, so all ranks stop at
    the same iteration even if the signal reaches them at different times
    (one scalar all-reduce per iteration).

    A signal during validation takes effect after the next training
    iteration (or, after the last epoch, when training ends: the epoch's
    checkpoint exists then, and ``--resume`` runs the test). The handlers
    are installed for training only: during the final test SIGTERM ends the
    process as usual (``--resume`` repeats the test).

    Args:
        signals: Names of the signals that stop training.
    """

    priority = 'LOWEST'

    def __init__(self, signals: Sequence[str] = ('SIGTERM', 'SIGUSR1')):
        self.signals = []
        for name in signals:
            sig = getattr(signal, str(name), None)
            if not isinstance(sig, signal.Signals):
                raise ValueError(
                    f'PreemptionCheckpointHook: signals has {name!r}, which '
                    'is not a signal name (e.g. SIGTERM, SIGUSR1)')
            self.signals.append(sig)
        self._received: Optional[int] = None
        self._previous = {}
        self._checkpoint_hook = None

    def _handler(self, signum, frame) -> None:
        if self._received is None:
            self._received = int(signum)

    def before_train(self, runner) -> None:
        self._received = None
        if threading.current_thread() is not threading.main_thread():
            runner.logger.warning(
                'PreemptionCheckpointHook: training runs outside the main '
                'thread, where no signal handler can be installed: SIGTERM '
                'ends the run without a checkpoint.')
            return
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._handler)
        self._checkpoint_hook = next(
            (h for h in runner.hooks if isinstance(h, SafeCheckpointHook)),
            None)
        if self._checkpoint_hook is None:
            runner.logger.warning(
                'PreemptionCheckpointHook: the run has no SafeCheckpointHook '
                '(default_hooks.checkpoint): on SIGTERM it stops without a '
                'resumable checkpoint.')

    def _restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None
                          else signal.SIG_DFL)
        self._previous = {}

    def _agreed_signal(self) -> int:
        """The signal number if any rank received one (0: none)."""
        local = self._received or 0
        if get_world_size() == 1:
            return local
        flag = torch.tensor([float(local)], dtype=torch.float64)
        all_reduce(flag, op='max')
        return int(flag.item())

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if not self._previous:
            return
        signum = self._agreed_signal()
        if not signum:
            return
        step = runner.iter + 1
        saved = None
        hook = self._checkpoint_hook
        if hook is not None:
            name = runner.message_hub.get_info('last_iter_ckpt', None)
            saved = f'iter_{step}.pth'
            if name != saved:  # not written by iter_interval just now
                hook.save_iter_checkpoint(runner)
        self._stop(runner, signum, f'after iteration {step} (epoch '
                   f'{runner.epoch + 1})', saved)

    def after_train(self, runner) -> None:
        received, self._received = self._received, None
        self._restore()
        if received:
            self._stop(runner, received, 'at the end of training (the '
                       'last epoch\'s checkpoint is saved; the test of the '
                       'best checkpoint did not run)', 'last_checkpoint')

    def _stop(self, runner, signum, when, saved) -> None:
        self._restore()
        name = signal.Signals(signum).name
        status = 128 + int(signum)
        if saved:
            what = f'resumable checkpoint {saved} written; continue with ' \
                '--resume'
        else:
            what = 'no checkpoint written (no SafeCheckpointHook)'
        runner.logger.warning(
            f'{name} received: training stopped {when}; {what}. Exiting '
            f'with status {status}.')
        raise Preempted(status)

    def after_run(self, runner) -> None:
        self._restore()
