"""Evaluation metrics registered in mmaction's ``METRICS``."""
from .domain_acc import DomainAccMetric, domain_metrics

__all__ = ['DomainAccMetric', 'domain_metrics']
