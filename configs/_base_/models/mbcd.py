# MBCD (Eq. 9): EMA (teacher + TeacherUpdateHook) + adaptive modality dropout
# (Eq. 2-4) + gradient consistency look-ahead (Eq. 5, alpha 1e-4) +
# collaborative distillation (Eq. 8, lambda 1). Every part can be switched
# off for the Table 4/5 ablations (configs/mbcd/table4_*.py, table5_*.py); the teacher is
# validated and tested (model.evaluate_with='student' to change).
_base_ = ['./ema.py']

model = dict(
    type='MBCD',
    fusion=dict(type='AdaptiveDropoutFusion', mode='adaptive'),
    gradient_consistency=dict(type='GradientConsistencyLoss', alpha=1e-4),
    distillation=dict(type='CollaborativeDistillationLoss', temperature=1.0,
                      loss_weight=1.0))
