_base_ = ['./rna_gmp_epic_vaf.py']
modalities = ('rgb', 'audio')
