_base_ = ['./moosa_gmp_hac_vaf.py']
modalities = ('flow', 'audio')
