from mbcd_mmaction import compat  # noqa: F401  (before mmaction imports)
from . import hooks, optimizers, runner  # noqa: F401
