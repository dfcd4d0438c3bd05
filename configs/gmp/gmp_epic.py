# GMP on EPIC-Kitchens, video + audio + flow, multi-source: train on the two
# other domains (the discriminator's classes), select on their test
# splits, test on `target_domain` (--cfg-options target_domain=D2).
_base_ = ['../_base_/models/gmp.py', '../_base_/experiments/epic.py']
modalities = ('rgb', 'flow', 'audio')
