# EMA baseline on HAC, video + audio + flow, multi-source (see
# configs/erm_hac_vaf.py for the protocol): ERM whose trainable weights are
# averaged by an EMA teacher, which is validated and tested.
_base_ = [
    './_base_/models/ema.py', './_base_/datasets/hac_vaf.py',
    './_base_/schedules/adam_20e.py', './_base_/mmdg_runtime.py'
]
target_domain = 'human'
modalities = ('rgb', 'flow', 'audio')
num_classes = 7
model = dict(num_classes=num_classes)
val_evaluator = dict(type='DomainAccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator
