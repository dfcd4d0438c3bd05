# MBCD Table 5, "fix dropout": every modality dropped with probability 0.5.
_base_ = ['../mbcd_epic_af.py']
model = dict(fusion=dict(mode='fixed', fixed_prob=0.5))
