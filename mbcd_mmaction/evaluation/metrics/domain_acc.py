"""Accuracy overall and per domain.

A single-source run tests on two target domains with one dataloader; this
metric reports both (and a multi-source or in-domain run's per-source
validation accuracy) next to the overall numbers.
"""
from collections import OrderedDict
from typing import Dict, List, Sequence

from mmaction.evaluation import AccMetric
from mmaction.registry import METRICS


@METRICS.register_module()
class DomainAccMetric(AccMetric):
    """:class:`mmaction.evaluation.AccMetric` overall, per domain and
    averaged over domains.

    Each data sample must carry its ``domain`` in the metainfo (the datasets'
    configs pack it: ``PackActionInputs(meta_keys=('domain_id', 'domain',
    ...))``). With a dict ``pred_score`` (``{'fused': ..., 'rgb': ...}``) the
    keys are, with the default prefix ``acc``::

        acc/fused_top1, acc/rgb_top1, ...                  # all samples
        acc/<domain>/fused_top1, acc/<domain>/rgb_top1 ... # one domain
        acc/domain_mean/fused_top1, ...                    # mean over domains

    (``acc/top1`` etc. for a plain tensor ``pred_score``). The overall keys
    are those of ``AccMetric``, so ``save_best='acc/fused_top1'`` keeps
    working.

    Args:
        domain_key (str): Metainfo key of the domain. Defaults to 'domain'.
        domain_mean (bool): Also report the unweighted mean over domains
            (when there are two or more). Defaults to True.
        **kwargs: :class:`AccMetric` arguments (``metric_list``,
            ``metric_options``, ``collect_device``, ``prefix``).
    """

    def __init__(self, domain_key: str = 'domain', domain_mean: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.domain_key = domain_key
        self.domain_mean = domain_mean

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        first = len(self.results)
        super().process(data_batch, data_samples)
        for result, sample in zip(self.results[first:], data_samples):
            domain = sample.get(self.domain_key, None)
            if domain is None and 'metainfo' in sample:
                domain = sample['metainfo'].get(self.domain_key, None)
            if domain is None:
                raise KeyError(
                    f'DomainAccMetric: a data sample has no '
                    f'{self.domain_key!r} metainfo; add it to '
                    'PackActionInputs(meta_keys=...).')
            result['domain'] = str(domain)

    def compute_metrics(self, results: List) -> Dict:
        metrics = OrderedDict(super().compute_metrics(results))
        domains = sorted({r['domain'] for r in results})
        per_domain: Dict[str, Dict] = {}
        for domain in domains:
            subset = [r for r in results if r['domain'] == domain]
            per_domain[domain] = super().compute_metrics(subset)
            for key, value in per_domain[domain].items():
                metrics[f'{domain}/{key}'] = value
            metrics[f'{domain}/num_samples'] = len(subset)
        if self.domain_mean and len(domains) > 1:
            for key in per_domain[domains[0]]:
                values = [per_domain[d][key] for d in domains]
                metrics[f'domain_mean/{key}'] = float(sum(values) /
                                                      len(values))
        return metrics


def domain_metrics(metrics: Dict, prefix: str = 'acc') -> Dict[str, Dict]:
    """Regroup a flat metrics dict into ``{domain: {name: value}}`` (the
    overall numbers under ``'all'``)."""
    grouped: Dict[str, Dict] = {}
    for key, value in metrics.items():
        name = key[len(prefix) + 1:] if key.startswith(prefix + '/') else key
        domain, _, metric = name.rpartition('/')
        grouped.setdefault(domain or 'all', {})[metric] = value
    return grouped


__all__ = ['DomainAccMetric', 'domain_metrics']
