# In-domain accuracy (paper Tables 3, 10: columns "D2,D3->D1"): train on the
# train splits of every domain but `target_domain` (the multi-source run's
# sources), test on the same domains' test splits, reported per domain.
# `domain` instead trains and tests on one domain. There is no third split:
# validation and test are the same data (the test split).
#   --cfg-options target_domain=D1    (or domain=D1)
_base_ = ['../erm_epic_vaf.py']
protocol = 'in_domain'
target_domain = 'D1'
domain = None
val_evaluator = dict(type='DomainAccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator
