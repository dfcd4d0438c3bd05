from .atomic import atomic_write_bytes, fsync_dir, is_complete_checkpoint
from .loops import ResumableEpochBasedTrainLoop
from .mmdg_runner import MMDGRunner

__all__ = ['MMDGRunner', 'ResumableEpochBasedTrainLoop',
           'atomic_write_bytes', 'fsync_dir', 'is_complete_checkpoint']
