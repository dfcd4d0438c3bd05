"""One registered recognizer per method; each extends :class:`ERM` (the
named steps are in :class:`MultiModalRecognizer`)."""
from .cmrf import CMRF
from .ema import EMA
from .erm import ERM
from .mbcd import MBCD
from .moosa import MOOSA
from .rna import RNA
from .simmmdg import SimMMDG

__all__ = ['CMRF', 'EMA', 'ERM', 'MBCD', 'MOOSA', 'RNA', 'SimMMDG']
