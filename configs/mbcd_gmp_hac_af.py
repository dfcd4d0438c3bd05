_base_ = ['./mbcd_gmp_hac_vaf.py']
modalities = ('flow', 'audio')
