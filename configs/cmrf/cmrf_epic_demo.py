# CMRF on the generated EPIC demo data (tools/demo.py writes
# data/epic_demo), with the demo's small encoders and learning rate.
_base_ = ['../_base_/models/cmrf.py',
          '../_base_/experiments/epic_demo.py']
modalities = ('rgb', 'flow', 'audio')

model = dict(encoders={{_base_.demo_encoders}})
# The demos' teacher rule (configs/mbcd/mbcd_epic_demo.py): CMRF starts its
# average at t0 = 400 of about 8,000 iterations, 1/20 of training;
# TeacherUpdateHook sets start_step to round(start_fraction x the run's
# iterations) when training starts (20 epochs of 8 iterations: 8), so
# another max_epochs or dataset size keeps the fraction; the start_step in
# model.teacher is replaced.
custom_hooks = [dict(type='TeacherUpdateHook', start_fraction=1 / 20)]
