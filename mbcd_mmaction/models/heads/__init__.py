from .mlp_head import LinearClsHead, MLPClsHead

__all__ = ['LinearClsHead', 'MLPClsHead']
