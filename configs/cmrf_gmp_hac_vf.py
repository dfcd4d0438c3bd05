_base_ = ['./cmrf_gmp_hac_vaf.py']
modalities = ('rgb', 'flow')
