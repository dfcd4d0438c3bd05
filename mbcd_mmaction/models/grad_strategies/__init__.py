from .gmp import (GradientModulationProjection, GradientReversal,
                  modulation_coefficient, project_out, relative_ratios)

__all__ = ['GradientModulationProjection', 'GradientReversal',
           'modulation_coefficient', 'project_out', 'relative_ratios']
