"""Cost benchmark of every method and of the data pipeline
(``tools/benchmark.py``)."""
from .runner import build_parser, run_benchmark

__all__ = ['build_parser', 'run_benchmark']
