# SimMMDG on the generated EPIC demo data (tools/demo.py writes
# data/epic_demo), with the demo's small encoders and learning rate.
_base_ = ['../_base_/models/simmmdg.py',
          '../_base_/experiments/epic_demo.py']
modalities = ('rgb', 'flow', 'audio')

model = dict(encoders={{_base_.demo_encoders}})
