_base_ = ['./simmmdg_gmp_epic_vaf.py']
modalities = ('flow', 'audio')
