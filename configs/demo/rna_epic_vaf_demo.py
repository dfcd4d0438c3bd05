# RNA-Net on the generated EPIC demo data (tools/demo.py writes
# data/epic_demo), with the demo's small encoders and learning rate.
_base_ = [
    '../_base_/models/rna.py', '../_base_/models/demo_encoders.py',
    '../_base_/datasets/epic_kitchens_demo.py',
    '../_base_/schedules/adam_20e.py', '../_base_/mmdg_runtime.py'
]
target_domain = 'D1'
modalities = ('rgb', 'flow', 'audio')

model = dict(encoders={{_base_.demo_encoders}})

optim_wrapper = dict(optimizer=dict(lr=1e-3))
default_hooks = dict(logger=dict(interval=8))
