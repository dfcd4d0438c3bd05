_base_ = ['./moosa_epic_vaf.py']
modalities = ('rgb', 'audio')
