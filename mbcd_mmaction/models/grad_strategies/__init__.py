from .base import BaseGradientStrategy
from .gmp import (GradientModulationProjection, GradientReversal,
                  modulation_coefficient, relative_ratios)

__all__ = ['BaseGradientStrategy', 'GradientModulationProjection',
           'GradientReversal', 'modulation_coefficient', 'relative_ratios']
