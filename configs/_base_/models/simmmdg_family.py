# The architecture of the SimMMDG family of baselines (RNA-Net, SimMMDG,
# MOOSA, CMRF; docs/methods.md), each choice a switch: no LayerNorm,
# linear uni-modal heads, video and flow features taken after a dropout of
# 0.5 (the authors' modified mmaction heads), no plain uni-modal CE (a
# gradient strategy such as GMP sets uni_loss_weight to add its own).
# The frozen trunk stays frozen with BatchNorm in eval mode, as for every
# method here (the originals ran the video/flow trunks' BN in train mode).
#
# One setting for every split (the uniform protocol: the authors' defaults
# and the schedule's 20 epochs). `per_split = True` (e.g. --cfg-options
# per_split=True) applies the authors' per-split settings instead
# (mbcd_mmaction/experiments/baseline_settings.py).
_base_ = ['./erm.py']

per_split = False
model = dict(
    uni_head=dict(_delete_=True, type='LinearClsHead'),
    feature_norm=False,
    feature_dropout=dict(_delete_=True, rgb=0.5, flow=0.5),
    uni_loss_weight=None,
    uni_cls_to_strategy=False)
