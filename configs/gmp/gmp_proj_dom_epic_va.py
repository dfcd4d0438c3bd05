# GMP Table 4 ablation, "always project domain": on conflict, g_d is always
# projected onto the plane normal to g_c.
# Video + audio, as the paper's GMP ablations.
_base_ = ['./gmp_epic.py']
modalities = ('rgb', 'audio')
model = dict(gradient_modulation=dict(projection_mode='domain'))
