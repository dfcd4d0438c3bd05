# CMRF on the generated EPIC demo data (tools/demo.py writes
# data/epic_demo), with the demo's small encoders and learning rate.
_base_ = ['../_base_/models/cmrf.py',
          '../_base_/experiments/epic_demo.py']
modalities = ('rgb', 'flow', 'audio')

# The SMA teacher starts after about one demo epoch (8 steps), as 400 steps
# are about one EPIC epoch.
model = dict(encoders={{_base_.demo_encoders}},
             teacher=dict(start_step=8))
