"""Cost benchmark of every method and of the data pipeline
(``tools/benchmark.py``)."""
from mbcd_mmaction import compat  # noqa: F401  (before mmaction imports)
from .runner import run_benchmark

__all__ = ['run_benchmark']
