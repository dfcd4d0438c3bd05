from mbcd_mmaction import compat  # noqa: F401  (before mmaction imports)
from . import metrics  # noqa: F401
from .metrics import DomainAccMetric, domain_metrics  # noqa: F401
