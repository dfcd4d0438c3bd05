from .adaptive_dropout import AdaptiveDropoutFusion

__all__ = ['AdaptiveDropoutFusion']
