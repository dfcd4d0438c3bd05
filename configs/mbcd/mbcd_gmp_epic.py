# MBCD + GMP on EPIC-Kitchens, video + audio + flow, multi-source: the MBCD
# config with GMP's gradient strategy added by config only. The uni-modal
# CE (weight 3.0, GMP's setting) still drives MBCD's look-ahead unmodulated;
# the uni-modal gradient reaching the encoders is GMP's modulated and
# projected one; the fused loss and the distillation are unchanged.
_base_ = ['./mbcd_epic.py', '../_base_/models/gmp_strategy.py']
model = dict(uni_loss_weight=3.0, gradient_modulation={{_base_.gmp}})
