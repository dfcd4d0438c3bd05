# The generated HAC-layout data's counterpart of ./epic_demo.py (data
# ../datasets/hac_demo.py, written by `python -m
# mbcd_mmaction.datasets.synthetic --dataset hac --root data/hac_demo`),
# with HAC's target, classes and per-domain metric (./hac.py). A demo
# config adds a method's model with the encoders and the class count:
#   model = dict(num_classes={{_base_.num_classes}},
#                encoders={{_base_.demo_encoders}})
_base_ = [
    '../models/demo_encoders.py', '../datasets/hac_demo.py',
    '../schedules/adam_20e.py', '../mmdg_runtime.py'
]
target_domain = 'human'
num_classes = 7
val_evaluator = dict(type='DomainAccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=1e-3))
default_hooks = dict(logger=dict(interval=6))
