# ERM baseline on EPIC-Kitchens, video + audio + flow, multi-source.
_base_ = [
    './_base_/models/erm.py', './_base_/datasets/epic_kitchens_vaf.py',
    './_base_/schedules/adam_20e.py', './_base_/mmdg_runtime.py'
]
target_domain = 'D1'
modalities = ('rgb', 'flow', 'audio')
