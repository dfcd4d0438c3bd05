# In-domain accuracy (paper Tables 3, 10: columns "D2,D3->D1"): train on the
# train splits of every domain but `target_domain` (the multi-source run's
# sources), test on the same domains' test splits, reported per domain.
# `domain` instead trains and tests on one domain. There is no third split:
# validation and test are the same data (the test split).
#   --cfg-options target_domain=human    (or domain=human)
_base_ = ['../erm_hac_af.py']
protocol = 'in_domain'
target_domain = 'human'
domain = None
val_evaluator = dict(type='DomainAccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator
