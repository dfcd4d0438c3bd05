"""One registered recognizer per method; each extends :class:`ERM` (the
named steps are in :class:`MultiModalRecognizer`).

Every module of this package is imported here, so a method added as one
file (a class registered with ``@MODELS.register_module()``) is registered
without editing this file."""
import importlib
import pkgutil

from .cmrf import CMRF
from .ema import EMA
from .erm import ERM
from .mbcd import MBCD
from .moosa import MOOSA
from .rna import RNA
from .simmmdg import SimMMDG

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f'{__name__}.{_module.name}')

__all__ = ['CMRF', 'EMA', 'ERM', 'MBCD', 'MOOSA', 'RNA', 'SimMMDG']
