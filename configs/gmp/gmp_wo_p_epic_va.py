# GMP Table 4 ablation, "w/o p": domain gradient not modulated.
# Video + audio, as the paper's GMP ablations.
_base_ = ['./gmp_epic.py']
modalities = ('rgb', 'audio')
model = dict(gradient_modulation=dict(use_p=False))
