from .checked_multimodal import CheckedMultiModalDataPreprocessor

__all__ = ['CheckedMultiModalDataPreprocessor']
