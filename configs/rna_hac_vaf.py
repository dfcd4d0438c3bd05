# RNA-Net on HAC, video + audio + flow, multi-source: train on the two other
# domains' train splits, select on their test splits, test on all videos of
# `target_domain` (--cfg-options target_domain=animal). The authors'
# per-split settings: --cfg-options per_split=True.
_base_ = [
    './_base_/models/rna.py', './_base_/datasets/hac_vaf.py',
    './_base_/schedules/adam_20e.py', './_base_/mmdg_runtime.py'
]
target_domain = 'human'
modalities = ('rgb', 'flow', 'audio')
num_classes = 7
model = dict(num_classes=num_classes)
val_evaluator = dict(type='DomainAccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator
