# MBCD Table 4, row "EMA + DL": the EMA teacher and collaborative
# distillation; no modality dropout, no look-ahead.
_base_ = ['./mbcd_epic.py']
modalities = ('flow', 'audio')
model = dict(fusion=dict(mode='off'), gradient_consistency=None)
