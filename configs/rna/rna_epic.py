# RNA-Net on EPIC-Kitchens, video + audio + flow, multi-source: train on
# the two other domains, select on their test splits, test on
# `target_domain` (--cfg-options target_domain=D2). The authors' per-split
# settings: --cfg-options per_split=True.
_base_ = ['../_base_/models/rna.py', '../_base_/experiments/epic.py']
modalities = ('rgb', 'flow', 'audio')
