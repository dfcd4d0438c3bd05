_base_ = ['./gmp_hac_vaf.py']
modalities = ('flow', 'audio')
