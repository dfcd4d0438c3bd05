# EMA on the generated EPIC-Kitchens-layout data (no download): ERM whose
# trainable weights are averaged by the MBCD demo's EMA teacher, which is
# validated and tested (configs/ema_epic_vaf.py is the paper-sized
# counterpart). Generate the data first:
#   python -m mbcd_mmaction.datasets.synthetic --root data/epic_demo
_base_ = ['./mbcd_epic_vaf_demo.py']

model = dict(
    fusion=dict(type='AdaptiveDropoutFusion', mode='off'),
    gradient_consistency=None,
    distillation=None)
