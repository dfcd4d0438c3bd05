# GMP Table 4 ablation, "one shared coefficient": both task gradients scaled
# by k_m * p_m instead of k_m and p_m separately (decoupling removed).
# Video + audio, as the paper's GMP ablations.
_base_ = ['./gmp_epic.py']
modalities = ('rgb', 'audio')
model = dict(gradient_modulation=dict(shared_coefficient='product'))
