from .atomic import atomic_write_bytes, fsync_dir, is_complete_checkpoint
from .integrity import (DamagedCheckpointError, NoResumableCheckpointError,
                        checkpoint_problem, verify_checkpoint)
from .loops import ResumableEpochBasedTrainLoop
from .mmdg_runner import MMDGRunner

__all__ = ['MMDGRunner', 'ResumableEpochBasedTrainLoop',
           'atomic_write_bytes', 'fsync_dir', 'is_complete_checkpoint',
           'DamagedCheckpointError', 'NoResumableCheckpointError',
           'checkpoint_problem', 'verify_checkpoint']
