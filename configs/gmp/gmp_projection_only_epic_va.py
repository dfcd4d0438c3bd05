# GMP Table 4 ablation, "projection only": no modulation (k = p = 1),
# conflict-adaptive projection.
# Video + audio, as the paper's GMP ablations.
_base_ = ['./gmp_epic.py']
modalities = ('rgb', 'audio')
model = dict(gradient_modulation=dict(use_k=False, use_p=False))
