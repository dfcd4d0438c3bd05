"""Optimiser constructor that only sees trainable parameters."""
from mmaction.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                               OPTIMIZERS)
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableParamsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Like mmengine's default, but parameters with ``requires_grad=False``
    (the frozen encoder trunks, the EMA teacher) never enter the optimiser.

    mmengine's default passes every parameter; Adam skips those without a
    gradient, but weight decay bookkeeping, state and checkpoint size would
    still cover the frozen ones, and a teacher in the optimiser would be a
    silent hazard.
    """

    def __call__(self, model):
        if is_model_wrapper(model):
            model = model.module
        optim_wrapper_cfg = self.optim_wrapper_cfg.copy()
        optim_wrapper_cfg.setdefault('type', 'OptimWrapper')
        optimizer_cfg = self.optimizer_cfg.copy()
        if self.paramwise_cfg:
            groups = []
            self.add_params(groups, model)
            params = [g for g in groups if g['params'][0].requires_grad]
        else:
            params = [p for p in model.parameters() if p.requires_grad]
        if not params:
            raise ValueError('the model has no trainable parameters')
        optimizer_cfg['params'] = params
        optimizer = OPTIMIZERS.build(optimizer_cfg)
        return OPTIM_WRAPPERS.build(optim_wrapper_cfg,
                                    default_args=dict(optimizer=optimizer))
