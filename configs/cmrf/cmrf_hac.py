# CMRF on HAC, video + audio + flow, multi-source: train on the two other
# domains' train splits, select on their test splits, test on all videos of
# `target_domain` (--cfg-options target_domain=animal). The authors'
# per-split settings: --cfg-options per_split=True.
_base_ = ['../_base_/models/cmrf.py', '../_base_/experiments/hac.py']
modalities = ('rgb', 'flow', 'audio')
# The SMA teacher starts averaging after 100 steps (about one HAC epoch).
model = dict(num_classes={{_base_.num_classes}}, teacher=dict(start_step=100))
