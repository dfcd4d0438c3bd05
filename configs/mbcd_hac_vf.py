_base_ = ['./mbcd_hac_vaf.py']
modalities = ('rgb', 'flow')
