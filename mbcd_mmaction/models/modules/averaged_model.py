"""CMRF's simple moving average (SMA) of the weights."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseAveragedModel


@MODELS.register_module()
class SimpleMovingAverage(BaseAveragedModel):
    """Uniform average of the models after ``start_step`` updates (CMRF).

    Update ``t`` (counted from 1, one per optimiser step) sets the average
    to the model itself while ``t <= start_step``, and afterwards to the
    uniform mean of the models ``theta_{t0}, ..., theta_t``:
    ``avg <- avg + (theta - avg) / (t - t0 + 1)``. CMRF applies it to the
    whole state dict, buffers included (``update_buffers=True``, the
    default here); integer buffers keep their first value, as mmengine
    averages floating tensors only.

    Args:
        model (nn.Module): The model to average.
        start_step (int): ``t0`` (``--sma_start_step``): 400 for EPIC, 100
            for HAC in the authors' commands.
        device (torch.device, optional): Where to keep the average.
        update_buffers (bool): Average buffers too. Defaults to True.
    """

    def __init__(self, model: nn.Module, start_step: int,
                 device=None, update_buffers: bool = True) -> None:
        # mmengine's first update copies the model, which is update 1 of
        # CMRF's rule only when t0 >= 1.
        if start_step < 1:
            raise ValueError(f'start_step must be >= 1, got {start_step}')
        super().__init__(model, interval=1, device=device,
                         update_buffers=update_buffers)
        self.start_step = start_step

    def avg_func(self, averaged_param: torch.Tensor,
                 source_param: torch.Tensor, steps: int) -> None:
        # ``steps`` updates came before this one, which is t = steps + 1.
        t = int(steps) + 1
        if t <= self.start_step:
            averaged_param.copy_(source_param)
        else:
            averaged_param.add_(source_param - averaged_param,
                                alpha=1.0 / (t - self.start_step + 1))
