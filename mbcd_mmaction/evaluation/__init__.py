from . import metrics  # noqa: F401
from .metrics import DomainAccMetric, domain_metrics  # noqa: F401
