from . import (data_preprocessors, encoders, grad_strategies,  # noqa: F401
               heads, losses, methods, modules, necks, recognizers)
