_base_ = ['./ema_hac_vaf.py']
modalities = ('rgb', 'flow')
