# MBCD Table 5, "w/o dropout": full MBCD, no modality dropout at fusion.
_base_ = ['./mbcd_epic.py']
modalities = ('flow', 'audio')
model = dict(fusion=dict(mode='off'))
