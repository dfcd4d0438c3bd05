# MBCD Table 5, "fix dropout": every modality dropped with probability 0.5.
_base_ = ['./mbcd_epic.py']
modalities = ('flow', 'audio')
model = dict(fusion=dict(mode='fixed', fixed_prob=0.5))
