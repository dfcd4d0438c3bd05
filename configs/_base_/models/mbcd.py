# MBCD (Eq. 9): ERM + adaptive modality dropout (Eq. 2-4) + gradient
# consistency look-ahead (Eq. 5, alpha 1e-4) + EMA teacher (Eq. 7, beta
# 0.999 = mmengine momentum 0.001) + collaborative distillation (Eq. 8,
# lambda 1). Every part can be switched off for the Table 4/5 ablations;
# the teacher is validated and tested (model.evaluate_with='student' to
# change). The teacher needs EMATeacherHook (configs/_base_/mmdg_runtime.py).
_base_ = ['./erm.py']

model = dict(
    fusion=dict(type='AdaptiveDropoutFusion', mode='adaptive'),
    gradient_consistency=dict(type='GradientConsistencyLoss', alpha=1e-4),
    teacher=dict(type='ExponentialMovingAverage', momentum=0.001),
    distillation=dict(type='CollaborativeDistillationLoss', temperature=1.0,
                      loss_weight=1.0))
