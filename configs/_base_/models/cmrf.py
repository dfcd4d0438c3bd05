# CMRF (Fan et al., NeurIPS 2024; docs/methods.md), the authors'
# README flags: uni-modal CE 2.0 (audio x 0.5), SupCon 3.0 on projections
# of the full features, distillation 3.0 (audio x 0.5) toward the mixup
# (Beta(0.1, 0.1)) of a simple-moving-average teacher's projections, from
# step t0 + 1. t0 (teacher.start_step) is 400 for EPIC, 100 for HAC (set by
# the dataset configs). The student is validated and tested; the teacher's
# fused accuracy is logged beside it. `uni_cls_to_strategy=True` (with
# uni_loss_weight=None) hands the uni-modal CEs to a gradient strategy.
_base_ = ['./simmmdg_family.py']

baseline = 'cmrf'
model = dict(
    type='CMRF',
    projection=dict(type='ProjectionHead', hidden_channels=2048,
                    out_channels=128),
    contrastive=dict(type='SupConLoss', temperature=0.1,
                     base_temperature=0.07, loss_weight=3.0),
    uni_cls_loss=dict(type='ModalityWeightedCELoss', loss_weight=2.0,
                 modality_weights=dict(audio=0.5)),
    distillation=dict(type='MixupDistillationLoss', alpha=0.1,
                      modality_weights=dict(audio=0.5), loss_weight=3.0),
    teacher=dict(type='SimpleMovingAverage', start_step=400),
    evaluate_with='student')
# The teacher moves after every optimiser step.
custom_hooks = [dict(type='TeacherUpdateHook')]
