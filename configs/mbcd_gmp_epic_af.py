_base_ = ['./mbcd_gmp_epic_vaf.py']
modalities = ('flow', 'audio')
