# EMA baseline (MBCD Table 4, row 2): ERM whose weights are averaged by an
# EMA teacher (beta 0.999 = mmengine momentum 0.001); the teacher is
# validated and tested. TeacherUpdateHook moves it after every optimiser step.
_base_ = ['./erm.py']

model = dict(type='EMA',
             teacher=dict(type='ExponentialMovingAverage', momentum=0.001))
custom_hooks = [dict(type='TeacherUpdateHook')]
