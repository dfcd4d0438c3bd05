# What every demo on the generated EPIC-layout data shares (the demo configs;
# tools/demo.py writes data/epic_demo): the demo data
# (../datasets/epic_kitchens_demo.py), the schedule and runtime of the
# paper-sized experiments (./epic.py), the small random-init encoders
# (../models/demo_encoders.py) and, without pretrained weights, a higher
# learning rate. A demo config adds a method's model and puts the encoders
# into it (mmengine refuses two bases that both define `model`):
#   _base_ = ['../_base_/models/mbcd.py',
#             '../_base_/experiments/epic_demo.py']
#   modalities = ('rgb', 'flow', 'audio')
#   model = dict(encoders={{_base_.demo_encoders}})
_base_ = [
    '../models/demo_encoders.py', '../datasets/epic_kitchens_demo.py',
    '../schedules/adam_20e.py', '../mmdg_runtime.py'
]
target_domain = 'D1'
num_classes = 8

optim_wrapper = dict(optimizer=dict(lr=1e-3))
# 8 iterations per demo epoch
default_hooks = dict(logger=dict(interval=8))
