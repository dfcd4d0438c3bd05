_base_ = ['./mbcd_epic_vaf.py']
modalities = ('rgb', 'audio')
