# MBCD Table 4, row "EMA": ERM + EMA teacher (flow + audio).
_base_ = ['../ema/ema_epic.py']
modalities = ('flow', 'audio')
