# The SimMMDG/MBCD schedule: Adam lr 1e-4, weight decay 1e-4, batch 16,
# 20 epochs, constant learning rate, no gradient clipping. Only parameters
# that require gradients (the last encoder stages and the heads) are given
# to the optimiser.
_base_ = ['mmaction::_base_/schedules/adam_20e.py']

param_scheduler = []
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='TrainableParamsOptimWrapperConstructor',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4))
auto_scale_lr = dict(enable=False, base_batch_size=16)
