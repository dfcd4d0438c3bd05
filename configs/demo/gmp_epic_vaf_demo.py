# GMP on the generated EPIC-Kitchens-layout data (no download): the MBCD
# demo's narrow encoders, data, schedule and protocol, with the MBCD parts
# switched off and GMP's gradient strategy on (configs/gmp_epic_vaf.py is
# the paper-sized counterpart). Generate the data first:
#   python -m mbcd_mmaction.datasets.synthetic --root data/epic_demo
_base_ = ['./mbcd_epic_vaf_demo.py', '../_base_/models/gmp_strategy.py']

model = dict(
    fusion=dict(type='AdaptiveDropoutFusion', mode='off'),
    gradient_consistency=None,
    teacher=None,
    distillation=None,
    evaluate_with='student',
    uni_loss_weight=3.0,
    gradient_modulation={{_base_.gmp}})
custom_hooks = []  # no teacher
