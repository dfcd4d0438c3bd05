# MBCD Table 4, row "AMD + EMA": adaptive modality dropout on top of EMA.
_base_ = ['./table4_ema_epic_af.py']
model = dict(fusion=dict(mode='adaptive'))
