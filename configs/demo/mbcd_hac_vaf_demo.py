# MBCD on the generated HAC-layout data (no download): the model, losses,
# schedule and protocol of configs/mbcd_hac_vaf.py with the tiny encoders of
# configs/demo/mbcd_epic_vaf_demo.py. Generate the data first:
#   python -m mbcd_mmaction.datasets.synthetic --dataset hac --root data/hac_demo
_base_ = [
    '../_base_/models/mbcd.py', '../_base_/models/demo_encoders.py',
    '../_base_/datasets/hac_demo.py',
    '../_base_/schedules/adam_20e.py', '../_base_/mmdg_runtime.py'
]
target_domain = 'human'
modalities = ('rgb', 'flow', 'audio')
num_classes = 7

# See mbcd_epic_vaf_demo.py: higher learning rate without pretrained weights,
# teacher horizon scaled to the short run.
model = dict(
    num_classes=num_classes,
    teacher=dict(momentum=0.02),
    encoders={{_base_.demo_encoders}})

optim_wrapper = dict(optimizer=dict(lr=1e-3))
default_hooks = dict(logger=dict(interval=6))
val_evaluator = dict(type='DomainAccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator
