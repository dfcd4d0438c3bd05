_base_ = ['./gmp_epic_vaf.py']
modalities = ('flow', 'audio')
