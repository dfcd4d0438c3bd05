from mbcd_mmaction import compat  # noqa: F401  (before mmaction imports)
from . import (data_preprocessors, encoders, grad_strategies,  # noqa: F401
               heads, losses, methods, modules, necks, recognizers)
