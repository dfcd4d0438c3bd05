# CMRF on EPIC-Kitchens, video + audio + flow, multi-source: train on
# the two other domains, select on their test splits, test on
# `target_domain` (--cfg-options target_domain=D2). The authors' per-split
# settings: --cfg-options per_split=True.
_base_ = [
    './_base_/models/cmrf.py', './_base_/datasets/epic_kitchens_vaf.py',
    './_base_/schedules/adam_20e.py', './_base_/mmdg_runtime.py'
]
target_domain = 'D1'
modalities = ('rgb', 'flow', 'audio')
# The SMA teacher starts averaging after 400 steps (about one EPIC epoch).
model = dict(teacher=dict(start_step=400))
