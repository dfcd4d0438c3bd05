# EMA baseline on HAC, video + audio + flow, multi-source (see
# configs/erm/erm_hac.py for the protocol): ERM whose trainable weights are
# averaged by an EMA teacher, which is validated and tested.
_base_ = ['../_base_/models/ema.py', '../_base_/experiments/hac.py']
modalities = ('rgb', 'flow', 'audio')
model = dict(num_classes={{_base_.num_classes}})
