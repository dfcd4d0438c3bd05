# EMA baseline (MBCD Table 4, row 2): ERM whose weights are averaged by an
# EMA teacher (beta 0.999); the teacher is validated and tested.
_base_ = ['./erm.py']

model = dict(teacher=dict(type='ExponentialMovingAverage', momentum=0.001))
