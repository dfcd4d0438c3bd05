# ERM on the generated EPIC-Kitchens-layout data (no download): the MBCD
# demo's narrow encoders, data, schedule and protocol with every MBCD part
# switched off (configs/erm_epic_vaf.py is the paper-sized counterpart).
# Generate the data first:
#   python -m mbcd_mmaction.datasets.synthetic --root data/epic_demo
_base_ = ['./mbcd_epic_vaf_demo.py']

model = dict(
    fusion=dict(type='AdaptiveDropoutFusion', mode='off'),
    gradient_consistency=None,
    teacher=None,
    distillation=None,
    evaluate_with='student')
custom_hooks = []  # no teacher
