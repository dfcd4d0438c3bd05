# MBCD on the generated HAC-layout data (no download): the model, losses,
# schedule and protocol of configs/mbcd/mbcd_hac.py with the tiny encoders of
# configs/mbcd/mbcd_epic_demo.py. Generate the data first:
#   python -m mbcd_mmaction.datasets.synthetic --dataset hac --root data/hac_demo
_base_ = ['../_base_/models/mbcd.py',
          '../_base_/experiments/hac_demo.py']
modalities = ('rgb', 'flow', 'audio')

# See mbcd_epic_demo.py: higher learning rate without pretrained weights,
# the teacher's horizon 1/8 of the run's iterations.
model = dict(
    num_classes={{_base_.num_classes}},
    encoders={{_base_.demo_encoders}})
custom_hooks = [dict(type='TeacherUpdateHook', horizon_fraction=1 / 8)]
