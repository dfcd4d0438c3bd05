# What every EPIC-Kitchens experiment shares: the data
# (../datasets/epic_kitchens_vaf.py), the SimMMDG/MBCD schedule, the runtime
# and the multi-source protocol with D1 as the default held-out target
# (--cfg-options target_domain=D2). An experiment config adds a method's
# model and its modalities:
#   _base_ = ['./_base_/models/mbcd.py', './_base_/experiments/epic.py']
#   modalities = ('rgb', 'flow', 'audio')
_base_ = [
    '../datasets/epic_kitchens_vaf.py', '../schedules/adam_20e.py',
    '../mmdg_runtime.py'
]
target_domain = 'D1'
# The model configs' default class count is EPIC's (models/erm.py).
num_classes = 8
