_base_ = ['./erm_epic_vaf.py']
modalities = ('flow', 'audio')
