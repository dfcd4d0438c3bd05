_base_ = ['./mbcd_epic_vaf.py']
modalities = ('flow', 'audio')
