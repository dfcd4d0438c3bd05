from .base import BaseGradientStrategy
from .gmp import (GradientModulationProjection, GradientReversal,
                  modulation_coefficient, project_out, relative_ratios)

__all__ = ['BaseGradientStrategy', 'GradientModulationProjection',
           'GradientReversal', 'modulation_coefficient', 'project_out',
           'relative_ratios']
