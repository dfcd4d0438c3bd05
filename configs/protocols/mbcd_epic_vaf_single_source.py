# Single-source DG (paper Tables 2, 8, 9): train on `source_domain`'s train
# split, select on its test split, test on every other domain in one
# dataloader; DomainAccMetric reports each target (acc/<domain>/fused_top1)
# and their mean (acc/domain_mean/fused_top1).
#   --cfg-options source_domain=D1    [target_domain=<one domain>]
_base_ = ['../mbcd_epic_vaf.py']
protocol = 'single_source'
source_domain = 'D1'
target_domain = 'all'  # every domain but the source
val_evaluator = dict(type='DomainAccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator
