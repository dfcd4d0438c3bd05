from .adaptive_dropout import AdaptiveDropoutFusion
from .concat import ConcatFusion

__all__ = ['AdaptiveDropoutFusion', 'ConcatFusion']
