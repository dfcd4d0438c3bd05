# MBCD Table 4, row "EMA + AMD": the EMA teacher and adaptive modality
# dropout; no look-ahead, no distillation.
_base_ = ['./mbcd_epic.py']
modalities = ('flow', 'audio')
model = dict(gradient_consistency=None, distillation=None)
