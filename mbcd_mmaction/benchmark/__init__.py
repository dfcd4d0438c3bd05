"""Cost benchmark of every method and of the data pipeline
(``tools/benchmark.py``)."""
from mbcd_mmaction import compat  # noqa: F401  (before mmaction imports)
from .runner import build_parser, run_benchmark

__all__ = ['build_parser', 'run_benchmark']
