# ERM on the generated EPIC-Kitchens-layout data (no download): the MBCD
# demo's narrow encoders, data, schedule and learning rate with ERM's model
# (configs/erm_epic_vaf.py is the paper-sized counterpart). Generate the
# data first:
#   python -m mbcd_mmaction.datasets.synthetic --root data/epic_demo
_base_ = [
    '../_base_/models/erm.py', '../_base_/models/demo_encoders.py',
    '../_base_/datasets/epic_kitchens_demo.py',
    '../_base_/schedules/adam_20e.py', '../_base_/mmdg_runtime.py'
]
target_domain = 'D1'
modalities = ('rgb', 'flow', 'audio')

model = dict(encoders={{_base_.demo_encoders}})

optim_wrapper = dict(optimizer=dict(lr=1e-3))
default_hooks = dict(logger=dict(interval=8))
