_base_ = ['./rna_gmp_hac_vaf.py']
modalities = ('rgb', 'flow')
