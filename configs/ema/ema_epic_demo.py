# EMA on the generated EPIC-Kitchens-layout data (no download): ERM whose
# trainable weights are averaged by an EMA teacher, which is validated and
# tested (configs/ema/ema_epic.py is the paper-sized counterpart). Generate
# the data first:
#   python -m mbcd_mmaction.datasets.synthetic --root data/epic_demo
_base_ = ['../_base_/models/ema.py',
          '../_base_/experiments/epic_demo.py']
modalities = ('rgb', 'flow', 'audio')

model = dict(encoders={{_base_.demo_encoders}})
# The demos' teacher horizon rule (configs/mbcd/mbcd_epic_demo.py): a
# horizon of 1/8 of the run's iterations, set when training starts.
custom_hooks = [dict(type='TeacherUpdateHook', horizon_fraction=1 / 8)]
