from .mlp_head import MLPClsHead

__all__ = ['MLPClsHead']
