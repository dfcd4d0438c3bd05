# EMA on the generated EPIC-Kitchens-layout data (no download): ERM whose
# trainable weights are averaged by an EMA teacher with the MBCD demo's
# horizon (beta 0.98), which is validated and tested (configs/ema/ema_epic.py
# is the paper-sized counterpart). Generate the data first:
#   python -m mbcd_mmaction.datasets.synthetic --root data/epic_demo
_base_ = ['../_base_/models/ema.py',
          '../_base_/experiments/epic_demo.py']
modalities = ('rgb', 'flow', 'audio')

model = dict(teacher=dict(momentum=0.02), encoders={{_base_.demo_encoders}})
