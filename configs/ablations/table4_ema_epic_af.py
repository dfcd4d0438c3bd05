# MBCD Table 4, row "EMA": ERM + EMA teacher (flow + audio).
_base_ = ['../ema_epic_vaf.py']
modalities = ('flow', 'audio')
