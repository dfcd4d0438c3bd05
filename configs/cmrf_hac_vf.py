_base_ = ['./cmrf_hac_vaf.py']
modalities = ('rgb', 'flow')
