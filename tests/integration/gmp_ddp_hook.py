"""A hook that saves each rank's trainable parameters and last GMP
coefficients at the end of training (imported by name in torchrun workers
through custom_imports; tests/integration is put on PYTHONPATH)."""
import os.path as osp

import torch
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module(force=True)
class RankStateDictHook(Hook):

    def __init__(self):
        self.gmp_logs = {}

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.gmp_logs = {k: round(float(v), 6)
                         for k, v in (outputs or {}).items()
                         if k.endswith(('_gmp_k', '_gmp_p', '_gmp_q',
                                        '_gmp_c'))}

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        params = {k: v.detach().clone() for k, v in model.named_parameters()
                  if v.requires_grad}
        torch.save(dict(params=params, world_size=get_world_size(),
                        gmp_logs=self.gmp_logs),
                   osp.join(runner.work_dir, f'final_rank{get_rank()}.pth'))
