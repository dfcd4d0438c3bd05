# CMRF on HAC, video + audio + flow, multi-source: train on the two other
# domains' train splits, select on their test splits, test on all videos of
# `target_domain` (--cfg-options target_domain=animal). The authors'
# per-split settings: --cfg-options per_split=True.
_base_ = [
    './_base_/models/cmrf.py', './_base_/datasets/hac_vaf.py',
    './_base_/schedules/adam_20e.py', './_base_/mmdg_runtime.py'
]
target_domain = 'human'
modalities = ('rgb', 'flow', 'audio')
num_classes = 7
# The SMA teacher starts averaging after 100 steps (about one HAC epoch).
model = dict(num_classes=num_classes, teacher=dict(start_step=100))
val_evaluator = dict(type='DomainAccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator
