_base_ = ['./erm_hac_vaf.py']
modalities = ('flow', 'audio')
