_base_ = ['./cmrf_epic_vaf.py']
modalities = ('flow', 'audio')
