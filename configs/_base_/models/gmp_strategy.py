# GMP's gradient strategy alone (no model), to add to any recognizer
# config: `_base_ = [..., '<rel>/_base_/models/gmp_strategy.py']` and
# `model = dict(uni_loss_weight=3.0, gradient_modulation={{_base_.gmp}})`.
# Every ablation of the GMP paper's Table 4 is a switch here
# (configs/gmp/README.md). `source_domains=None` is filled by
# apply_protocol with the training domains (the discriminator's classes).
gmp = dict(
    type='GradientModulationProjection',
    source_domains=None,
    proj_channels=512,
    disc_hidden=256,
    proj_dropout=0.5,
    grl_factor=0.3,
    domain_loss_weight=0.5,
    alpha_k=0.5,
    alpha_p=0.5,
    use_k=True,
    use_p=True,
    shared_coefficient=None,
    projection_mode='adaptive')
