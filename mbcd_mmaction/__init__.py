"""mbcd_mmaction: multi-modal domain generalisation for MMAction2 1.x.

Importing the package applies the compatibility fixes of
:mod:`mbcd_mmaction.compat` and registers every component into mmaction's
registries, so configs with ``default_scope='mmaction'`` find them once
``custom_imports = dict(imports=['mbcd_mmaction'])`` is set.
"""
from . import compat  # noqa: F401  (must run before mmaction.models imports)
from . import datasets, engine, evaluation, models  # noqa: F401,E402

__version__ = '0.1.0'
