# ERM baseline on HAC, video + audio + flow, multi-source: train on the two other
# domains' train splits, select on their test splits, test on all videos of
# `target_domain` (--cfg-options target_domain=animal). Per-domain numbers
# come from DomainAccMetric (acc/<domain>/fused_top1 next to acc/fused_top1).
_base_ = ['../_base_/models/erm.py', '../_base_/experiments/hac.py']
modalities = ('rgb', 'flow', 'audio')
model = dict(num_classes={{_base_.num_classes}})
