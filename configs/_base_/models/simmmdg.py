# SimMMDG (Dong et al., NeurIPS 2023; docs/methods.md):
# L = CE(fused) + 0.1 translation + 3.0 SupCon(shared halves) + 0.7 distance.
_base_ = ['./simmmdg_family.py']

baseline = 'simmmdg'
model = dict(
    type='SimMMDG',
    projection=dict(type='ProjectionHead', hidden_channels=2048,
                    out_channels=128),
    translation=dict(type='CrossModalTranslation', hidden_channels=2048,
                     dropout_ratio=0.5, mask_ratio=0.0, loss_weight=0.1),
    contrastive=dict(type='SupConLoss', temperature=0.1,
                     base_temperature=0.07, loss_weight=3.0),
    distance=dict(type='SharedSpecificDistanceLoss', loss_weight=0.7))
