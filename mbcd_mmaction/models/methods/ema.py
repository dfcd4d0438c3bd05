"""EMA: ERM with an exponential moving average teacher (MBCD, Table 4)."""
from mmaction.registry import MODELS

from .erm import ERM


@MODELS.register_module()
class EMA(ERM):
    """ERM whose weights are averaged by a teacher (MBCD Eq. 7: beta 0.999,
    mmengine momentum 0.001), moved by ``TeacherUpdateHook`` after every
    optimiser step; the teacher is validated and tested.

    Args:
        teacher (dict): Averaged-model cfg (``ExponentialMovingAverage``,
            momentum 0.001 in the configs).
        **kwargs: :class:`ERM`'s arguments.
    """

    def __init__(self, teacher: dict, **kwargs) -> None:
        if not teacher:
            raise ValueError(f'{type(self).__name__} needs a teacher cfg, '
                             f'got {teacher!r}')
        super().__init__(teacher=teacher, **kwargs)
