# ERM: the SimMMDG multi-modal baseline. Per-modality LayerNorm and MLP heads
# plus a fused MLP head on the plain concatenation (ConcatFusion); no
# look-ahead, no teacher. `model.modalities` selects from the encoder pool;
# the training tools set it from the experiment's top-level `modalities`.
# The SimMMDG-family baselines switch to their own architecture here:
# feature_norm=False, uni_head=dict(type='LinearClsHead'),
# feature_dropout=dict(rgb=0.5, flow=0.5).
_base_ = ['./mm_encoders.py']

model = dict(
    type='ERM',
    encoders=dict(rgb={{_base_.rgb_encoder}}, flow={{_base_.flow_encoder}},
                  audio={{_base_.audio_encoder}}),
    modalities=None,
    # EPIC-Kitchens' 8 classes; the top-level `num_classes` is the
    # dataset's (configs/_base_/experiments), and an experiment on a dataset
    # with another count sets this too (configs/_base_/experiments/hac.py).
    num_classes=8,
    uni_head=dict(type='MLPClsHead', hidden_channels=512, dropout_ratio=0.5),
    fused_head=dict(type='MLPClsHead', hidden_channels=512,
                    dropout_ratio=0.5),
    fusion=dict(type='ConcatFusion'),
    feature_norm=True,
    feature_dropout=None,
    uni_loss_weight=1.0)
