# MBCD Table 5, "w/o dropout": full MBCD, no modality dropout at fusion.
_base_ = ['../mbcd_epic_af.py']
model = dict(fusion=dict(mode='off'))
