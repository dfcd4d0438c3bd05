"""Per-rank dump of the final weights and the loss trajectory (DDP checks)."""
import os
import os.path as osp
from typing import Optional

import torch
from mmaction.registry import HOOKS
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from .non_finite_loss_hook import _as_floats


@HOOKS.register_module()
class RankStateDumpHook(Hook):
    """Every rank writes ``rank<r>_final.pth`` after training: the model's
    state dict (student and EMA teacher) and each iteration's log variables
    (losses, drop probabilities) as this rank computed them.

    Used by the distributed-correctness tests, and to find out which rank
    diverged when a real run misbehaves. Add it to ``custom_hooks``:
    ``dict(type='RankStateDumpHook')``. The file is a plain dict of tensors,
    floats and lists (loads with ``torch.load(weights_only=True)``).

    Args:
        out_dir (str, optional): Defaults to the work directory.
    """

    priority = 'LOWEST'

    def __init__(self, out_dir: Optional[str] = None):
        self.out_dir = out_dir
        self.log = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.log.append(dict(iter=runner.iter + 1, **_as_floats(outputs)))

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        out_dir = self.out_dir or runner.work_dir
        os.makedirs(out_dir, exist_ok=True)
        state = {k: v.detach().cpu().clone()
                 for k, v in model.state_dict().items()}
        torch.save(dict(rank=get_rank(), world_size=get_world_size(),
                        state_dict=state, log=self.log),
                   osp.join(out_dir, f'rank{get_rank()}_final.pth'))
