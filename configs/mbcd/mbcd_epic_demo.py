# MBCD on the generated EPIC-Kitchens-layout data (no download): the same
# model, losses, schedule and protocol as configs/mbcd/mbcd_epic.py, with
# encoders narrow enough to train on 2 CPU cores in minutes and no
# pretrained weights. Generate the data first:
#   python -m mbcd_mmaction.datasets.synthetic --root data/epic_demo
# (tools/demo.py does both).
_base_ = ['../_base_/models/mbcd.py',
          '../_base_/experiments/epic_demo.py']
modalities = ('rgb', 'flow', 'audio')

# No pretrained weights: a higher learning rate (experiments/epic_demo.py).
model = dict(encoders={{_base_.demo_encoders}})
# The demos' teacher horizon rule: the paper averages with beta 0.999 over
# about 8,000 iterations, a horizon 1 / (1 - beta) of 1/8 of training.
# TeacherUpdateHook sets the EMA momentum (1 - beta) to
# 1 / (horizon_fraction x the run's iterations) when training starts, so a
# run with another max_epochs or dataset size keeps the fraction (20 epochs
# of 8 iterations: a horizon of 20 iterations, beta 0.95); the momentum in
# model.teacher is replaced.
custom_hooks = [dict(type='TeacherUpdateHook', horizon_fraction=1 / 8)]
