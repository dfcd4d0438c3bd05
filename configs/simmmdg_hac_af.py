_base_ = ['./simmmdg_hac_vaf.py']
modalities = ('flow', 'audio')
