# MOOSA + GMP on the generated EPIC demo data.
_base_ = ['./moosa_epic_demo.py', '../_base_/models/gmp_strategy.py']
model = dict(uni_loss_weight=3.0, gradient_modulation={{_base_.gmp}})
