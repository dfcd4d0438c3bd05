"""One registered recognizer per method; each extends :class:`ERM` (the
named steps are in :class:`MultiModalRecognizer`)."""
from .ema import EMA
from .erm import ERM
from .mbcd import MBCD

__all__ = ['EMA', 'ERM', 'MBCD']
