from .frozen_trunk import FrozenTrunkEncoder, ResNetEncoder, SlowFastEncoder

__all__ = ['FrozenTrunkEncoder', 'ResNetEncoder', 'SlowFastEncoder']
