# GMP on HAC, video + audio + flow, multi-source (see configs/erm/erm_hac.py
# for the protocol and metrics).
_base_ = ['../_base_/models/gmp.py', '../_base_/experiments/hac.py']
modalities = ('rgb', 'flow', 'audio')
model = dict(num_classes={{_base_.num_classes}})
