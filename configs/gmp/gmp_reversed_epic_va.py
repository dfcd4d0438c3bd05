# GMP Table 4 ablation, "reversed projection": on conflict, the weaker task's
# gradient is projected (g_d if rho/sigma >= 1, else g_c).
# Video + audio, as the paper's GMP ablations.
_base_ = ['./gmp_epic.py']
modalities = ('rgb', 'audio')
model = dict(gradient_modulation=dict(projection_mode='reversed'))
