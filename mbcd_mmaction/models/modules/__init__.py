from .averaged_model import SimpleMovingAverage
from .jigsaw import MultimodalJigsaw, unrank_permutation
from .projection_head import ProjectionHead
from .translation import CrossModalTranslation

__all__ = [
    'CrossModalTranslation', 'MultimodalJigsaw', 'ProjectionHead',
    'SimpleMovingAverage', 'unrank_permutation'
]
