_base_ = ['./moosa_hac_vaf.py']
modalities = ('rgb', 'audio')
