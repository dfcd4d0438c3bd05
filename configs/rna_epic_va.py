_base_ = ['./rna_epic_vaf.py']
modalities = ('rgb', 'audio')
