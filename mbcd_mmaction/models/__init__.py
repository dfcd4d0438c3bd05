from . import (encoders, grad_strategies, heads, losses, necks,  # noqa: F401
               recognizers)
