"""Stop training with a clear error when a loss becomes NaN or infinite."""
import math
from typing import Dict

import torch
import torch.distributed as torch_dist
from mmaction.registry import HOOKS
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook


class NonFiniteLossError(FloatingPointError):
    """A training loss was NaN or infinite."""


def _as_floats(outputs) -> Dict[str, float]:
    values = {}
    for key, value in (outputs or {}).items():
        if isinstance(value, torch.Tensor):
            if value.numel() != 1:
                continue
            value = value.detach().float().item()
        if isinstance(value, (int, float)):
            values[str(key)] = float(value)
    return values


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raises :class:`NonFiniteLossError` naming the iteration and the loss
    values as soon as a loss (a log variable whose name contains 'loss') is
    not finite.

    It runs first in ``after_train_iter``: before the EMA teacher update,
    the logger and any checkpoint of that iteration, so no checkpoint holds
    weights updated from a non-finite loss. Under distributed training the
    ranks agree first (one integer all-reduce per iteration), so every rank
    stops with the same error instead of the others waiting at the next
    collective; the message lists each rank's values.

    Args:
        interval (int): Check every ``interval`` iterations. Defaults to 1.
    """

    priority = 'VERY_HIGH'

    def __init__(self, interval: int = 1):
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.interval = interval

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if (runner.iter + 1) % self.interval:
            return
        values = _as_floats(outputs)
        bad = any(not math.isfinite(v) for k, v in values.items()
                  if 'loss' in k)
        distributed = (torch_dist.is_available()
                       and torch_dist.is_initialized()
                       and get_world_size() > 1)
        if distributed:
            flag = torch.tensor([int(bad)], dtype=torch.int32)
            if torch_dist.get_backend() == 'nccl':
                flag = flag.cuda()
            torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MAX)
            bad = bool(flag.item())
        if not bad:
            return
        per_rank = all_gather_object(values) if distributed else [values]
        lines = []
        for rank, vals in enumerate(per_rank):
            shown = ', '.join(f'{k}={v:.6g}' for k, v in vals.items())
            lines.append(f'  rank {rank}: {shown}' if distributed
                         else f'  {shown}')
        n_batches = len(runner.train_dataloader)
        raise NonFiniteLossError(
            f'Non-finite loss at training iteration {runner.iter + 1} '
            f'(epoch {runner.epoch + 1}, batch {batch_idx + 1}/{n_batches}'
            f'{", rank %d" % get_rank() if distributed else ""}):\n'
            + '\n'.join(lines) +
            '\nTraining stopped before the EMA teacher update and before '
            'any checkpoint of this iteration was written; the last '
            'checkpoint in the work directory predates it. Check the inputs '
            'of this batch and the learning rate (a smaller lr or gradient '
            'clipping, optim_wrapper.clip_grad).')
