"""Refuses a trunk cache built with other frozen-trunk weights."""
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mbcd_mmaction.datasets.trunk_cache import (CachedTrunkDataset,
                                                check_manifest,
                                                trunk_fingerprint)


@HOOKS.register_module()
class TrunkCacheCheckHook(Hook):
    """Compares the hash of the model's frozen trunks (after the runner has
    loaded the pretrained weights and any checkpoint) with the hash in each
    cached dataset's manifest, before training and before testing. The
    datasets themselves check the dataset, pipeline and number of views
    when they are built. Added by ``apply_trunk_cache``."""

    priority = 'VERY_HIGH'

    @staticmethod
    def _check(runner, loaders) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        fingerprint = None
        for loader in loaders:
            ds = getattr(loader, 'dataset', None)
            if not isinstance(ds, CachedTrunkDataset):
                continue
            fingerprint = fingerprint or trunk_fingerprint(model)
            check_manifest(ds.manifest, ds.cache_dir, ds.dataset_cfg,
                           ds.num_views, trunk_sha256=fingerprint)

    def before_train(self, runner) -> None:
        loaders = [runner.train_dataloader]
        if runner.val_loop is not None:
            loaders.append(runner.val_loop.dataloader)
        self._check(runner, loaders)

    def before_test(self, runner) -> None:
        self._check(runner, [runner.test_loop.dataloader])
