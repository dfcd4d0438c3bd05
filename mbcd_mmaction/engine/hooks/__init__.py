from .checkpoint_hook import SafeCheckpointHook
from .teacher_update_hook import TeacherUpdateHook
from .eval_log_hook import EVAL_LOG, EvalLogHook
from .non_finite_loss_hook import (NonFiniteLossError, NonFiniteLossHook,
                                   NonFiniteOutputError, NonFiniteOutputHook,
                                   NonFiniteWeightsError,
                                   check_finite_weights)
from .peer_watchdog_hook import PeerWatchdogHook
from .preemption_hook import Preempted, PreemptionCheckpointHook
from .random_state_hook import RandomStateHook
from .rank_state_hook import RankStateDumpHook
from .skipped_samples_hook import SkippedSamplesHook
from .trunk_cache_hook import TrunkCacheCheckHook

__all__ = ['TeacherUpdateHook', 'EVAL_LOG', 'EvalLogHook', 'NonFiniteLossError',
           'NonFiniteLossHook', 'NonFiniteOutputError', 'NonFiniteOutputHook',
           'NonFiniteWeightsError', 'check_finite_weights', 'PeerWatchdogHook',
           'Preempted', 'PreemptionCheckpointHook', 'RandomStateHook',
           'RankStateDumpHook', 'SafeCheckpointHook',
           'SkippedSamplesHook', 'TrunkCacheCheckHook']
