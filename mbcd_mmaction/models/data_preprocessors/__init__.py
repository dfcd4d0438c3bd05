from .cached_trunk import CachedTrunkPreprocessor, TrunkOutputs
from .checked_multimodal import CheckedMultiModalDataPreprocessor

__all__ = ['CachedTrunkPreprocessor', 'CheckedMultiModalDataPreprocessor',
           'TrunkOutputs']
