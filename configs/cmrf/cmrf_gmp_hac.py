# CMRF + GMP on HAC, video + audio + flow: GMP adds its
# modulated uni-modal CE (weight 3.0) and domain terms; CMRF's own losses
# pass unmodulated (README, "Baselines").
_base_ = ['./cmrf_hac.py', '../_base_/models/gmp_strategy.py']
model = dict(uni_loss_weight=3.0, gradient_modulation={{_base_.gmp}})
