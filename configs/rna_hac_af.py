_base_ = ['./rna_hac_vaf.py']
modalities = ('flow', 'audio')
