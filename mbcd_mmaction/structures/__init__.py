"""Data structures shared by recognizers and gradient strategies (as
mmaction's ``structures``): :class:`ForwardContext`, what one training
forward computed, and its gradient helpers."""
from mbcd_mmaction import compat  # noqa: F401  (before mmaction imports)
from .forward_context import (ForwardContext, Grads, InjectGradients,
                              vector_jacobians)

__all__ = ['ForwardContext', 'Grads', 'InjectGradients', 'vector_jacobians']
