# ERM: the SimMMDG multi-modal baseline. Per-modality LayerNorm and MLP heads
# plus a fused MLP head on the concatenation; no dropout at fusion, no
# look-ahead, no teacher. `model.modalities` selects from the encoder pool;
# the training tools set it from the experiment's top-level `modalities`.
_base_ = ['./mm_encoders.py']

num_classes = 8

model = dict(
    type='MultiModalRecognizer',
    encoders=dict(rgb={{_base_.rgb_encoder}}, flow={{_base_.flow_encoder}},
                  audio={{_base_.audio_encoder}}),
    modalities=None,
    num_classes=num_classes,
    cls_head=dict(type='MLPClsHead', hidden_channels=512, dropout_ratio=0.5),
    fusion=dict(type='AdaptiveDropoutFusion', mode='off'),
    feature_norm=True)
