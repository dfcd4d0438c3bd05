"""What every multi-modal dataset of this package shares: unreadable
samples either stop the run with a clear error or, where the user opts in,
are skipped and counted."""
import multiprocessing

from mmaction.datasets import BaseActionDataset
from mmengine.logging import print_log


class UnreadableSampleError(OSError, ValueError):
    """A sample's file exists but cannot be used: empty, truncated,
    undecodable, or shorter than the clip needs. The message names the file
    and the sample."""


#: What ``skip_unreadable`` skips: a missing file or an unreadable one.
#: Anything else (a bug, a bad config) still stops the run.
SKIPPABLE = (FileNotFoundError, UnreadableSampleError)


class MultiModalBaseDataset(BaseActionDataset):
    """``BaseActionDataset`` with opt-in skipping of unreadable samples.

    Args:
        skip_unreadable (bool): In training, replace a sample whose files
            are missing or unreadable by another random sample (mmengine's
            refetch) instead of stopping, and count it;
            ``SkippedSamplesHook`` reports the count at the end of each
            epoch. Never in test mode: evaluation must see every sample.
            Defaults to False (stop with the error).
        *args, **kwargs: Passed to :class:`BaseActionDataset`.
    """

    def __init__(self, *args, skip_unreadable: bool = False, **kwargs):
        if skip_unreadable and kwargs.get('test_mode', False):
            raise ValueError(
                f'{type(self).__name__}: skip_unreadable=True is only for '
                'training; evaluation must see every sample (test_mode=True)')
        self.skip_unreadable = skip_unreadable
        # Shared with forked dataloader workers, which do the loading.
        self._skipped = multiprocessing.Value('i', 0) \
            if skip_unreadable else None
        super().__init__(*args, **kwargs)

    @property
    def num_skipped(self) -> int:
        """Samples skipped since the last :meth:`reset_skipped`."""
        return 0 if self._skipped is None else self._skipped.value

    def reset_skipped(self) -> None:
        if self._skipped is not None:
            with self._skipped.get_lock():
                self._skipped.value = 0

    def prepare_data(self, idx):
        if not self.skip_unreadable:
            return super().prepare_data(idx)
        try:
            return super().prepare_data(idx)
        except SKIPPABLE as error:
            with self._skipped.get_lock():
                self._skipped.value += 1
            print_log(f'skipping unreadable sample {idx}: {error}',
                      logger='current', level=30)
            return None  # mmengine's BaseDataset then draws another index
