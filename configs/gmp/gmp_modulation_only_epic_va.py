# GMP Table 4 ablation, "modulation only": k and p, no projection.
# Video + audio, as the paper's GMP ablations.
_base_ = ['./gmp_epic.py']
modalities = ('rgb', 'audio')
model = dict(gradient_modulation=dict(projection_mode='none'))
