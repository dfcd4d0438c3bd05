"""Per-iteration update of the model's averaged teacher (MBCD's EMA, Eq. 7;
CMRF's simple moving average), and its horizon as a fraction of the run."""
from typing import Optional

from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


@HOOKS.register_module()
class TeacherUpdateHook(Hook):
    """Calls ``model.update_teacher()`` after every optimiser step.

    Moves whatever averaged model the method's ``model.teacher`` is (MBCD's
    EMA, or another mmengine averaged model); the config of each method
    with a teacher declares it (``configs/_base_/models/ema.py``).

    Stateless: the teacher lives in the model (so the loss can use it and
    checkpoints save and resume it); this hook only decides when it moves.
    Under DDP every rank applies the same update to identical student
    weights, so teachers stay identical without communication.

    Horizons relative to the run (the demo configs): the paper averages
    with beta 0.999 over about 8,000 iterations, a horizon
    ``1 / (1 - beta)`` of 1,000 iterations = 1/8 of training; CMRF starts
    its average at t0 = 400 of 8,000 iterations = 1/20. With
    ``horizon_fraction=f`` the hook sets the EMA teacher's mmengine
    ``momentum`` (``1 - beta``) to ``1 / (f * T)``, and with
    ``start_fraction=g`` the SMA teacher's ``start_step`` (t0) to
    ``max(1, round(g * T))``, ``T`` being the run's length in iterations
    (``train_loop.max_iters``: ``max_epochs`` x iterations per epoch), at
    the start of training, so a run with another ``max_epochs`` or
    dataset size keeps the same fractions. Without them the teacher's
    configured values are used.

    Args:
        horizon_fraction (float, optional): EMA horizon / run length, in
            (0, 1]. Needs a teacher with a ``momentum``.
        start_fraction (float, optional): t0 / run length, in (0, 1).
            Needs a teacher with a ``start_step``.
    """

    priority = 'ABOVE_NORMAL'  # before checkpoint/logger hooks of the iter

    def __init__(self, horizon_fraction: Optional[float] = None,
                 start_fraction: Optional[float] = None) -> None:
        if horizon_fraction is not None and not 0 < horizon_fraction <= 1:
            raise ValueError(f'TeacherUpdateHook: horizon_fraction='
                             f'{horizon_fraction!r}, expected a fraction of '
                             'the run in (0, 1] (the paper: 1/8)')
        if start_fraction is not None and not 0 < start_fraction < 1:
            raise ValueError(f'TeacherUpdateHook: start_fraction='
                             f'{start_fraction!r}, expected a fraction of '
                             'the run in (0, 1) (CMRF: 1/20)')
        self.horizon_fraction = horizon_fraction
        self.start_fraction = start_fraction

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner) -> None:
        model = self._model(runner)
        if getattr(model, 'teacher', None) is None:
            raise RuntimeError(
                'TeacherUpdateHook needs a model with a teacher; set '
                "model.teacher=dict(type='ExponentialMovingAverage', "
                'momentum=0.001) or remove the hook from custom_hooks')
        total = int(runner.train_loop.max_iters)
        resolved = teacher_schedule(total, self.horizon_fraction,
                                    self.start_fraction)
        for key, value in resolved.items():
            if not hasattr(model.teacher, key):
                raise RuntimeError(
                    f'TeacherUpdateHook: {_OPTION[key]} sets the teacher\'s '
                    f'{key!r}, which {type(model.teacher).__name__} does not '
                    'have (momentum: ExponentialMovingAverage; start_step: '
                    'SimpleMovingAverage)')
            setattr(model.teacher, key, value)
            note = ''
            if key == 'momentum' and value >= 1.0:
                note = (': a horizon of at most one iteration, the teacher '
                        'is a copy of the student; train longer for an '
                        'averaged teacher')
            runner.logger.log(
                30 if note else 20,
                f'TeacherUpdateHook: teacher {key} = {value} '
                f'({_OPTION[key]} of {total} iterations){note}')

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._model(runner).update_teacher()


_OPTION = dict(momentum='horizon_fraction', start_step='start_fraction')


def teacher_schedule(total_iters: int,
                     horizon_fraction: Optional[float] = None,
                     start_fraction: Optional[float] = None) -> dict:
    """The teacher attributes :class:`TeacherUpdateHook` sets for a run of
    ``total_iters`` iterations: ``momentum = 1 / (horizon_fraction *
    total_iters)`` (mmengine's ``1 - beta``; at most 1: a horizon under one
    iteration makes the teacher a copy of the student) and ``start_step =
    max(1, round(start_fraction * total_iters))``; only those asked for."""
    if total_iters < 1:
        raise ValueError(f'total_iters={total_iters!r}: expected >= 1')
    out = {}
    if horizon_fraction is not None:
        horizon = horizon_fraction * total_iters
        # a run shorter than 1 / horizon_fraction iterations (a smoke test)
        # has a horizon under one step: the teacher then follows the
        # student (momentum 1), logged by the hook
        out['momentum'] = min(1.0, 1.0 / horizon)
    if start_fraction is not None:
        out['start_step'] = max(1, int(round(start_fraction * total_iters)))
    return out
