from .checkpoint_hook import SafeCheckpointHook
from .ema_teacher_hook import EMATeacherHook
from .non_finite_loss_hook import (NonFiniteLossError, NonFiniteLossHook,
                                   NonFiniteOutputError, NonFiniteOutputHook,
                                   NonFiniteWeightsError,
                                   check_finite_weights)
from .random_state_hook import RandomStateHook
from .rank_state_hook import RankStateDumpHook
from .skipped_samples_hook import SkippedSamplesHook
from .trunk_cache_hook import TrunkCacheCheckHook

__all__ = ['EMATeacherHook', 'NonFiniteLossError', 'NonFiniteLossHook',
           'NonFiniteOutputError', 'NonFiniteOutputHook',
           'NonFiniteWeightsError', 'check_finite_weights',
           'RandomStateHook', 'RankStateDumpHook', 'SafeCheckpointHook',
           'SkippedSamplesHook', 'TrunkCacheCheckHook']
