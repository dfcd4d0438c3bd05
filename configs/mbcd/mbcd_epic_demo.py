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
# 20 epochs of 8 iterations are 160 steps, against about 6,000 in the
# paper's runs, so the teacher averages over a proportionally shorter
# horizon (beta 0.98 instead of 0.999: about 50 steps instead of 1,000).
model = dict(
    teacher=dict(momentum=0.02),
    encoders={{_base_.demo_encoders}})
