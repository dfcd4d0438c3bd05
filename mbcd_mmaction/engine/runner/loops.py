"""Epoch-based training loop that resumes in the middle of an epoch."""
import itertools
import logging

from mmaction.registry import LOOPS
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from ..hooks.random_state_hook import get_random_state, set_random_state


class _SkipBatchSampler:
    """Yields the batches of ``batch_sampler`` from the ``skip``-th on.

    Only indices are skipped; no sample is loaded for the skipped batches.
    """

    def __init__(self, batch_sampler, skip: int):
        self.batch_sampler = batch_sampler
        self.skip = skip

    def __iter__(self):
        return itertools.islice(iter(self.batch_sampler), self.skip, None)

    def __len__(self):
        return max(len(self.batch_sampler) - self.skip, 0)


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that continues an interrupted epoch.

    mmengine 0.10.7 resumes an epoch-based loop at the start of the epoch
    stored in the checkpoint (``meta.epoch``, the completed epochs) while
    ``meta.iter`` counts the iterations done: from a checkpoint written in
    the middle of an epoch (``SafeCheckpointHook(iter_interval=...)``) it
    would train the epoch's first batches twice. This loop skips them:

    * the batches already trained are ``iter - epoch * len(dataloader)``;
      the resumed epoch draws its sample order from the same sampler (the
      seeded ``DefaultSampler`` gives the same permutation for the same
      epoch) and drops the first ones by index, without loading them;
    * the global random generators are set back, after the epoch's
      DataLoader iterator has been created (which draws a seed from them),
      to the state ``RandomStateHook`` restored from the checkpoint: the
      state the interrupted run had right before loading its next batch.

    With ``num_workers=0`` (augmentation in the main process) the resumed
    run then sees the same batches, augmentations, dropout masks and
    updates as an uninterrupted one. With worker processes the samples and
    their order are the same, but a worker's own generators are seeded per
    epoch by the DataLoader, so random augmentation of the rest of the
    interrupted epoch differs.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._skip = 0
        self._resume_random_state = None

    def batches_done_in_epoch(self) -> int:
        return self._iter - self._epoch * len(self.dataloader)

    def run(self):
        done = self.batches_done_in_epoch()
        if 0 < done <= len(self.dataloader):
            self._skip = done
            self._resume_random_state = get_random_state()
            print_log(
                f'Resuming inside epoch {self._epoch + 1}: skipping its '
                f'first {done} of {len(self.dataloader)} batches (already '
                'trained before the interruption).', logger='current')
        elif done != 0:
            print_log(
                f'Checkpoint iteration {self._iter} does not fit epoch '
                f'{self._epoch} with {len(self.dataloader)} batches per '
                'epoch (did the dataset or batch size change?); restarting '
                'the epoch.', logger='current', level=logging.WARNING)
        return super().run()

    def _skipping_loader(self, skip: int) -> DataLoader:
        dl = self.dataloader
        kwargs = dict(
            dataset=dl.dataset,
            batch_sampler=_SkipBatchSampler(dl.batch_sampler, skip),
            num_workers=dl.num_workers, collate_fn=dl.collate_fn,
            pin_memory=dl.pin_memory, timeout=dl.timeout,
            worker_init_fn=dl.worker_init_fn,
            multiprocessing_context=dl.multiprocessing_context,
            generator=dl.generator)
        if dl.num_workers > 0:
            kwargs['prefetch_factor'] = dl.prefetch_factor
        return DataLoader(**kwargs)

    def run_epoch(self) -> None:
        skip, self._skip = self._skip, 0
        if not skip:
            return super().run_epoch()
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        # the sampler got this epoch's seed in before_train_epoch
        iterator = iter(self._skipping_loader(skip))
        if self._resume_random_state is not None:
            set_random_state(self._resume_random_state)
            self._resume_random_state = None
        for idx, data_batch in enumerate(iterator, start=skip):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
