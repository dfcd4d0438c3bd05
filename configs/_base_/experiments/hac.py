# What every HAC experiment shares: the data (../datasets/hac_vaf.py), the
# SimMMDG/MBCD schedule, the runtime, the multi-source protocol with `human`
# as the default held-out target (--cfg-options target_domain=animal), 7
# classes and per-domain accuracy (DomainAccMetric: acc/<domain>/fused_top1
# next to acc/fused_top1). An experiment config adds a method's model, its
# modalities and the class count into the model (mmengine refuses two bases
# that both define `model`, so it cannot be set here):
#   _base_ = ['./_base_/models/mbcd.py', './_base_/experiments/hac.py']
#   modalities = ('rgb', 'flow', 'audio')
#   model = dict(num_classes={{_base_.num_classes}})
_base_ = [
    '../datasets/hac_vaf.py', '../schedules/adam_20e.py', '../mmdg_runtime.py'
]
target_domain = 'human'
num_classes = 7
val_evaluator = dict(type='DomainAccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator
