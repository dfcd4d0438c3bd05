_base_ = ['./ema_epic_vaf.py']
modalities = ('rgb', 'flow')
