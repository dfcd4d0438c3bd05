_base_ = ['./cmrf_epic_vaf.py']
modalities = ('rgb', 'audio')
