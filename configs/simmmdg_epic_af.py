_base_ = ['./simmmdg_epic_vaf.py']
modalities = ('flow', 'audio')
