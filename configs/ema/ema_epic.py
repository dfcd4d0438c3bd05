# EMA baseline on EPIC-Kitchens, video + audio + flow, multi-source.
_base_ = ['../_base_/models/ema.py', '../_base_/experiments/epic.py']
modalities = ('rgb', 'flow', 'audio')
