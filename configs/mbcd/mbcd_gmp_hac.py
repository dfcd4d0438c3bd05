# MBCD + GMP on HAC, video + audio + flow, multi-source.
_base_ = ['./mbcd_hac.py', '../_base_/models/gmp_strategy.py']
model = dict(uni_loss_weight=3.0, gradient_modulation={{_base_.gmp}})
