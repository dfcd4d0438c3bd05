_base_ = ['./simmmdg_gmp_hac_vaf.py']
modalities = ('flow', 'audio')
