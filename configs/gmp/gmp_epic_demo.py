# GMP on the generated EPIC-Kitchens-layout data (no download): the MBCD
# demo's narrow encoders, data, schedule and learning rate with GMP's model
# (configs/gmp/gmp_epic.py is the paper-sized counterpart). Generate the
# data first:
#   python -m mbcd_mmaction.datasets.synthetic --root data/epic_demo
_base_ = ['../_base_/models/gmp.py',
          '../_base_/experiments/epic_demo.py']
modalities = ('rgb', 'flow', 'audio')

model = dict(encoders={{_base_.demo_encoders}})
