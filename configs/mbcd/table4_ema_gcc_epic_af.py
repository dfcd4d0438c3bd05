# MBCD Table 4, row "EMA + GCC": the EMA teacher and the gradient
# consistency look-ahead; no modality dropout, no distillation.
_base_ = ['./mbcd_epic.py']
modalities = ('flow', 'audio')
model = dict(fusion=dict(mode='off'), distillation=None)
