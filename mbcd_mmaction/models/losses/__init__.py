from .distillation import CollaborativeDistillationLoss
from .gradient_consistency import GradientConsistencyLoss

__all__ = ['CollaborativeDistillationLoss', 'GradientConsistencyLoss']
