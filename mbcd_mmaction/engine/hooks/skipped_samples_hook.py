"""Reports the training samples skipped as unreadable in each epoch, and
once per dataset the samples the loading transforms adjusted."""
import torch
import torch.distributed as dist
from mmaction.registry import HOOKS
from mmengine.hooks import Hook

from mbcd_mmaction.datasets.base import ADJUSTMENTS


def _datasets(dataset):
    """The dataset and every dataset a wrapper (Concat/Repeat/...) holds."""
    yield dataset
    for attr in ('dataset', 'datasets'):
        inner = getattr(dataset, attr, None)
        if inner is None:
            continue
        for sub in (inner if isinstance(inner, (list, tuple)) else [inner]):
            yield from _datasets(sub)


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


@HOOKS.register_module()
class SkippedSamplesHook(Hook):
    """Reports what the datasets did not load as stored.

    * At the end of every training epoch: how many samples the training
      datasets skipped (``skip_unreadable=True``), summed over ranks,
      recorded in the message hub as ``train/skipped_samples``; the count
      is reset. Silent when nothing can be skipped.
    * Once per dataset (after its first training epoch, validation or
      test): how many of its samples the loading transforms adjusted
      (:data:`mbcd_mmaction.datasets.base.ADJUSTMENTS`: clips looped
      because they are shorter than clip_len x frame_interval, greyscale
      frames copied into three channels, short audio tiled with
      ``pad_short_audio=True``), over all ranks; a warning if any.
    """

    priority = 'LOW'

    def _report_adjustments(self, runner, loader, stage: str) -> None:
        for d in _datasets(loader.dataset):
            if not hasattr(d, 'adjusted_samples') or \
                    d.adjustments_reported:
                continue
            d.adjustments_reported = True
            flags = d.adjusted_samples()
            if _distributed():
                # each rank loaded its share: a sample is adjusted if any
                # rank adjusted it
                for kind in flags:
                    flags[kind] = flags[kind].to(torch.int32)
                    if dist.get_backend() == 'nccl':
                        flags[kind] = flags[kind].cuda()
                    dist.all_reduce(flags[kind], op=dist.ReduceOp.MAX)
            counts = {k: int(v.sum()) for k, v in flags.items()}
            name = (f"{type(d).__name__}(domains={getattr(d, 'domains', '?')}"
                    f", split={getattr(d, 'split', '?')!r})")
            parts = [f'{counts[k]} {ADJUSTMENTS[k]}' for k in ADJUSTMENTS
                     if counts.get(k)]
            log = runner.logger.warning if parts else runner.logger.info
            log(f'{stage} dataset {name}, {len(d)} samples: ' +
                ('; '.join(parts) if parts else 'every sample loaded as '
                 'stored (none looped, converted or padded)'))

    def after_train_epoch(self, runner) -> None:
        self._report_adjustments(runner, runner.train_dataloader, 'training')
        counters = [d for d in _datasets(runner.train_dataloader.dataset)
                    if getattr(d, 'skip_unreadable', False)]
        if not counters:
            return
        skipped = torch.tensor(sum(d.num_skipped for d in counters))
        if _distributed():
            dist.all_reduce(skipped)
        runner.message_hub.update_info('train/skipped_samples',
                                       int(skipped))
        log = runner.logger.warning if int(skipped) else runner.logger.info
        # runner.epoch counts completed epochs and is raised after this
        # hook: the epoch the log calls [n] is runner.epoch + 1 here.
        log(f'epoch {runner.epoch + 1}: {int(skipped)} unreadable training '
            'samples were skipped (skip_unreadable=True)')
        for d in counters:
            d.reset_skipped()

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._report_adjustments(runner, runner.val_dataloader, 'validation')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._report_adjustments(runner, runner.test_dataloader, 'test')
