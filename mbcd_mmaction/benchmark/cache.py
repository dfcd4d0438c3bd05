"""Live vs cached training at the paper's size (``tools/cache_benchmark.py``).

Generates EPIC-Kitchens-layout clips at the real frame size (456x256 jpgs),
then trains each method's paper config (``configs/<method>/<method>_epic.py``:
the paper encoders, random weights since none can be downloaded) twice with
the same seed: once decoding and running the frozen trunks every epoch
(live) and once from the frozen-trunk cache (``tools/cache_features.py``),
and reports the seconds per training epoch (the train loop: no validation
or checkpoint; from a hook), the one-off cost of writing the cache, the
mean training loss of every epoch and the target accuracy of both.

The live run decodes and augments each clip afresh, but draws the same
views the cache stores (:class:`~mbcd_mmaction.datasets.trunk_cache.
ReplayedViewDataset`): both runs train on the same inputs, so their losses
and accuracies differ only by the cache's storage precision and floating
point, and the timing compares the same training.
"""
import json
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

from mmaction.registry import HOOKS
from mmengine.hooks import Hook

from mbcd_mmaction.apis.config import load_cfg
from mbcd_mmaction.apis.runner import train
from mbcd_mmaction.apis.trunk_cache import build_trunk_cache
from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens
from mbcd_mmaction.datasets.trunk_cache import replay_cached_views

#: The EPIC-Kitchens frame size (W, H).
EPIC_FRAME_SIZE = (456, 256)


@HOOKS.register_module()
class EpochTimerHook(Hook):
    """Appends the wall seconds of every training epoch (the train loop
    only: no validation, no checkpoint) and its mean training loss to
    ``<work_dir>/epoch_stats.json`` (``{"seconds": [...], "loss": [...]}``).
    """

    # Before the checkpoint hook (VERY_LOW) ends the epoch: saving the
    # paper encoders' weights costs both runs the same few seconds.
    priority = 'BELOW_NORMAL'

    def before_train_epoch(self, runner) -> None:
        self._losses = []
        self._start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if outputs and 'loss' in outputs:
            self._losses.append(float(outputs['loss']))

    def after_train_epoch(self, runner) -> None:
        seconds = time.perf_counter() - self._start
        path = osp.join(runner.work_dir, 'epoch_stats.json')
        stats = dict(seconds=[], loss=[])
        if osp.isfile(path):
            with open(path) as f:
                stats = json.load(f)
        stats['seconds'].append(seconds)
        stats['loss'].append(sum(self._losses) / max(len(self._losses), 1))
        with open(path, 'w') as f:
            json.dump(stats, f)


def _options(data_root: str, work_dir: str, epochs: int, batch_size: int,
             seed: int) -> dict:
    options = {'data_root': data_root, 'work_dir': work_dir,
               'train_cfg.max_epochs': epochs,
               'randomness': dict(seed=seed),
               'default_hooks.logger.interval': 1,
               'train_dataloader.batch_size': batch_size,
               # Both runs draw the same order and views (CachedViewSampler).
               'train_dataloader.sampler.seed': seed}
    for modality in ('rgb', 'flow', 'audio'):
        options[f'model.encoders.{modality}.pretrained'] = None
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.num_workers'] = 0
        options[f'{loader}.persistent_workers'] = False
    return options


def _run(config: str, options: dict, replay: Optional[dict] = None
         ) -> Dict:
    cfg = load_cfg(config, options, use_trunk_cache=True)
    if replay is not None:
        replay_cached_views(cfg, **replay)
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='EpochTimerHook')]
    start = time.perf_counter()
    result = train(cfg)
    total = time.perf_counter() - start
    with open(osp.join(cfg.work_dir, 'epoch_stats.json')) as f:
        stats = json.load(f)
    metrics = result['test_metrics']
    return dict(sec_per_epoch=sum(stats['seconds']) / len(stats['seconds']),
                epoch_seconds=stats['seconds'], epoch_loss=stats['loss'],
                total_sec=total,
                target_fused_top1=metrics.get('acc/fused_top1'))


def benchmark_cache(methods: Sequence[str], work_root: str, clips: int,
                    epochs: int, batch_size: int, seed: int,
                    frame_size=EPIC_FRAME_SIZE, dtype: str = 'float16',
                    config_pattern: str = 'configs/{method}/{method}_epic.py'
                    ) -> Dict:
    """Live and cached runs of each method; see the module docstring.

    ``clips`` training clips per source domain (test: half as many, at
    least 2); target D1, sources D2 + D3. The cache holds ``epochs`` views
    per clip in ``dtype``.
    """
    if osp.exists(work_root):
        raise FileExistsError(f'{work_root} exists: choose another '
                              '--work-dir or remove it')
    data_root = osp.join(work_root, 'data')
    start = time.perf_counter()
    generate_epic_kitchens(
        data_root, clips_per_split=dict(train=clips,
                                        test=max(2, clips // 2)),
        frame_size=tuple(frame_size), seed=seed)
    report = dict(settings=dict(clips_per_source_domain=clips,
                                epochs=epochs, batch_size=batch_size,
                                seed=seed, frame_size=list(frame_size),
                                cache_dtype=dtype, threads=_threads()),
                  data_sec=time.perf_counter() - start, methods={})
    for method in methods:
        config = config_pattern.format(method=method)
        live_dir = osp.join(work_root, method, 'live')
        live = _run(config, _options(data_root, live_dir, epochs,
                                     batch_size, seed),
                    replay=dict(num_views=epochs, seed=seed))
        cache_dir = osp.join(work_root, method, 'trunk_cache')
        options = _options(data_root, osp.join(work_root, method, 'cached'),
                           epochs, batch_size, seed)
        start = time.perf_counter()
        build_trunk_cache(load_cfg(config, options, use_trunk_cache=False),
                          cache_dir=cache_dir, num_views=epochs, seed=seed,
                          dtype=dtype)
        cache_sec = time.perf_counter() - start
        options.update({'trunk_cache.dir': cache_dir,
                        'trunk_cache.num_views': epochs})
        cached = _run(config, options)
        report['methods'][method] = dict(
            live=live, cached=cached, cache_build_sec=cache_sec,
            epoch_speedup=live['sec_per_epoch'] / cached['sec_per_epoch'],
            max_epoch_loss_difference=max(
                abs(a - b) for a, b in zip(live['epoch_loss'],
                                           cached['epoch_loss'])))
    return report


def _threads() -> int:
    import torch
    return torch.get_num_threads()


def format_table(report: Dict) -> str:
    """The report as a terminal table."""
    rows: List[str] = [
        f"{'method':10} {'live s/epoch':>13} {'cached s/epoch':>15} "
        f"{'speed-up':>9} {'cache build s':>14} {'live acc':>9} "
        f"{'cached acc':>11} {'last loss live/cached':>22}"]
    for method, res in report['methods'].items():
        live, cached = res['live'], res['cached']

        def acc(run):
            value = run['target_fused_top1']
            return 'n/a' if value is None else f'{100 * value:.1f}'
        rows.append(
            f"{method:10} {live['sec_per_epoch']:13.1f} "
            f"{cached['sec_per_epoch']:15.1f} {res['epoch_speedup']:8.1f}x "
            f"{res['cache_build_sec']:14.1f} {acc(live):>9} "
            f"{acc(cached):>11} "
            f"{live['epoch_loss'][-1]:>11.4f}/{cached['epoch_loss'][-1]:<10.4f}")
    return '\n'.join(rows)

