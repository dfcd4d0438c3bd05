# MBCD + GMP on the generated EPIC demo data: the MBCD demo with GMP's
# gradient strategy added by config only (as configs/mbcd/mbcd_gmp_epic.py).
_base_ = ['./mbcd_epic_demo.py', '../_base_/models/gmp_strategy.py']
model = dict(uni_loss_weight=3.0, gradient_modulation={{_base_.gmp}})
