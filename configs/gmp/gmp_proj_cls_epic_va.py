# GMP Table 4 ablation, "always project classification": on conflict, g_c is
# always projected onto the plane normal to g_d.
# Video + audio, as the paper's GMP ablations.
_base_ = ['./gmp_epic.py']
modalities = ('rgb', 'audio')
model = dict(gradient_modulation=dict(projection_mode='classification'))
