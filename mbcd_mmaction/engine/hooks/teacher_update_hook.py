"""Per-iteration update of the model's averaged teacher (MBCD's EMA, Eq. 7;
CMRF's simple moving average)."""
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
    """

    priority = 'ABOVE_NORMAL'  # before checkpoint/logger hooks of the iter

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

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self._model(runner).update_teacher()
