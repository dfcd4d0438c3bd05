# MOOSA, closed-set multi-source (Dong, Chatzi, Fink, ECCV 2024;
# docs/methods.md): SimMMDG with masked translation (mask 0.3),
# entropy-weighted fused + uni-modal CE (replacing the plain CE), jigsaw
# (128 permutations of 4 chunks per modality; 2 with three modalities)
# weight 1.0, entropy minimisation 0.001. `uni_cls_to_strategy=True` (with
# uni_loss_weight=None) hands the uni-modal terms to a gradient strategy.
_base_ = ['./simmmdg.py']

baseline = 'moosa'
model = dict(
    type='MOOSA',
    translation=dict(mask_ratio=0.3),
    jigsaw=dict(type='MultimodalJigsaw', num_splits=None,
                num_permutations=128, hidden_channels=512, seed=0,
                loss_weight=1.0),
    entropy_weighting=dict(type='EntropyWeightedCELoss', temperature=1.0),
    entropy_minimisation=dict(type='EntropyMinimisationLoss',
                              loss_weight=0.001))
