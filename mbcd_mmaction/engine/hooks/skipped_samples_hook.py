"""Reports the training samples skipped as unreadable in each epoch."""
import torch
import torch.distributed as dist
from mmaction.registry import HOOKS
from mmengine.hooks import Hook


def _datasets(dataset):
    """The dataset and every dataset a wrapper (Concat/Repeat/...) holds."""
    yield dataset
    for attr in ('dataset', 'datasets'):
        inner = getattr(dataset, attr, None)
        if inner is None:
            continue
        for sub in (inner if isinstance(inner, (list, tuple)) else [inner]):
            yield from _datasets(sub)


@HOOKS.register_module()
class SkippedSamplesHook(Hook):
    """At the end of every training epoch, logs how many samples the
    training datasets skipped (``skip_unreadable=True``), summed over
    ranks, records it in the message hub as ``train/skipped_samples`` and
    resets the count. Silent when nothing can be skipped."""

    priority = 'LOW'

    def after_train_epoch(self, runner) -> None:
        counters = [d for d in _datasets(runner.train_dataloader.dataset)
                    if getattr(d, 'skip_unreadable', False)]
        if not counters:
            return
        skipped = torch.tensor(sum(d.num_skipped for d in counters))
        if dist.is_available() and dist.is_initialized():
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
