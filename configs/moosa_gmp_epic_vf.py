_base_ = ['./moosa_gmp_epic_vaf.py']
modalities = ('rgb', 'flow')
