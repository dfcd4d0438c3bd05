_base_ = ['./cmrf_gmp_epic_vaf.py']
modalities = ('rgb', 'audio')
