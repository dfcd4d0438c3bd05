# GMP Table 4 ablation, "PCGrad": on conflict, both gradients are projected,
# each against the other's original (symmetric).
# Video + audio, as the paper's GMP ablations.
_base_ = ['./gmp_epic.py']
modalities = ('rgb', 'audio')
model = dict(gradient_modulation=dict(projection_mode='pcgrad'))
