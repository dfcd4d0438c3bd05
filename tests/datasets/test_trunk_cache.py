"""Frozen-trunk feature cache: equivalence with live trunks, refusal of
stale, mismatched and incomplete caches, view sampling."""
import copy
import glob
import os
import os.path as osp

import pytest
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.dataset import pseudo_collate
from mmengine.runner.utils import set_random_seed

from mbcd_mmaction.apis import build_runner
from mbcd_mmaction.apis.config import load_cfg
from mbcd_mmaction.apis.trunk_cache import build_trunk_cache, live_sample
from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens
from mbcd_mmaction.datasets.trunk_cache import (CachedTrunkDataset,
                                                CachedViewSampler,
                                                TrunkCacheError,
                                                trunk_fingerprint)
from mbcd_mmaction.engine.hooks import TrunkCacheCheckHook
from mbcd_mmaction.models.data_preprocessors import CachedTrunkPreprocessor

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'mbcd', 'mbcd_epic_demo.py')
VIEWS = 2


def demo_cfg(data_root, work_dir, cache_dir=None, **extra):
    opts = {'work_dir': str(work_dir), 'log_level': 'WARNING'}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts[f'{loader}.dataset.data_root'] = str(data_root)
        opts[f'{loader}.num_workers'] = 0
        opts[f'{loader}.persistent_workers'] = False
    if cache_dir is not None:
        opts['trunk_cache'] = dict(dir=str(cache_dir), num_views=VIEWS)
    opts.update(extra)
    return load_cfg(DEMO, opts, use_trunk_cache=False), opts


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('epic') / 'data')
    generate_epic_kitchens(root, clips_per_split=dict(train=2, test=1))
    return root


@pytest.fixture(scope='module')
def fp16_cache(data_root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('cache16')
    cfg, opts = demo_cfg(data_root, tmp / 'work', tmp / 'cache')
    report = build_trunk_cache(cfg)
    return cfg, opts, report


def _model(cfg):
    set_random_seed(cfg.randomness['seed'])
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    return model.train()


def _loss_and_grads(model, data):
    model.zero_grad()
    torch.manual_seed(123)  # the same dropout masks for both paths
    losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()
             if p.requires_grad and p.grad is not None}
    return loss.detach(), grads


@pytest.mark.parametrize('dtype', ['float32', 'float16'])
def test_one_step_from_cache_equals_live_trunks(data_root, tmp_path, dtype):
    cfg, _ = demo_cfg(data_root, tmp_path / 'work', tmp_path / 'cache')
    build_trunk_cache(cfg, splits=['train'], dtype=dtype)
    model = _model(cfg)
    live_ds = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
    cached_ds = CachedTrunkDataset(str(tmp_path / 'cache' / 'train'),
                                   cfg.train_dataloader.dataset, VIEWS)
    picks = [(0, 1), (3, 0), (2, 1)]  # (clip, view), two source domains
    live = model.data_preprocessor(pseudo_collate(
        [live_sample(live_ds, 0, i, v) for i, v in picks]), True)
    cached = CachedTrunkPreprocessor()(pseudo_collate(
        [cached_ds[(i, v)] for i, v in picks]), True)
    assert [s.gt_label.item() for s in live['data_samples']] == \
        [s.gt_label.item() for s in cached['data_samples']]
    assert [s.domain for s in live['data_samples']] == \
        [s.domain for s in cached['data_samples']]
    trunk = model.extract_trunk(live['inputs'])
    if dtype == 'float16':
        # fp16 storage: the reference is the live trunk rounded to fp16.
        def rounded(x):
            return tuple(map(rounded, x)) if isinstance(x, tuple) else \
                x.half().float()
        trunk = {m: rounded(x) for m, x in trunk.items()}
    live['inputs'] = type(cached['inputs'])(trunk)  # pass through
    loss_live, grads_live = _loss_and_grads(model, live)
    loss_cached, grads_cached = _loss_and_grads(model, cached)
    assert torch.allclose(loss_live, loss_cached, rtol=1e-5, atol=1e-6)
    assert grads_live.keys() == grads_cached.keys() and grads_live
    for n in grads_live:
        assert torch.allclose(grads_live[n], grads_cached[n], rtol=1e-4,
                              atol=1e-6), n
    # And the live path through the trunks gives the same loss (fp32).
    if dtype == 'float32':
        live_again = model.data_preprocessor(pseudo_collate(
            [live_sample(live_ds, 0, i, v) for i, v in picks]), True)
        loss_again, _ = _loss_and_grads(model, live_again)
        assert torch.allclose(loss_again, loss_cached, rtol=1e-5, atol=1e-6)


def test_cache_report_and_views(fp16_cache):
    cfg, _, report = fp16_cache
    train = report['splits']['train']
    assert train['views'] == VIEWS and report['splits']['test']['views'] == 1
    assert train['bytes_per_clip'] == VIEWS * train['bytes_per_view'] > 0
    ds = CachedTrunkDataset(osp.join(report['cache_dir'], 'train'),
                            cfg.train_dataloader.dataset, VIEWS)
    # Different augmented views of one clip were stored.
    assert not torch.equal(ds[(0, 0)]['inputs']['flow'],
                           ds[(0, 1)]['inputs']['flow'])
    assert ds[(0, 0)]['inputs']['flow'].dtype == torch.float16
    assert isinstance(ds[(0, 0)]['inputs']['rgb'], tuple)  # (slow, fast)
    with pytest.raises(TypeError, match='CachedViewSampler'):
        ds[0]
    # Views: a function of seed, epoch and clip; ranks agree; every epoch
    # redraws.
    def sampler(rank, world_size, epoch):
        s = CachedViewSampler(ds, shuffle=True, seed=5)
        # The share of one rank of world_size (DefaultSampler's rule).
        s.rank, s.world_size = rank, world_size
        s.num_samples = -(-len(ds) // world_size)
        s.total_size = s.num_samples * world_size
        s.set_epoch(epoch)
        return list(s)

    views = dict(sampler(0, 2, 3) + sampler(1, 2, 3))
    assert sorted(views) == list(range(len(ds)))
    assert dict(sampler(0, 1, 3)) == views  # ranks agree with one process
    assert all(0 <= v < VIEWS for v in views.values())
    drawn = [tuple(v for _, v in sorted(sampler(0, 1, e))) for e in range(8)]
    assert len(set(drawn)) > 1  # epochs draw other views


def test_stale_cache_refused(fp16_cache, data_root, tmp_path):
    cfg, opts, report = fp16_cache
    train_dir = osp.join(report['cache_dir'], 'train')
    ds_cfg = cfg.train_dataloader.dataset
    with pytest.raises(TrunkCacheError, match='num_views 2 != .* 3'):
        CachedTrunkDataset(train_dir, ds_cfg, num_views=3)
    changed = copy.deepcopy(ds_cfg)
    changed.pipeline[6]['size'] = 28  # the random crop
    with pytest.raises(TrunkCacheError, match='stale: pipeline'):
        CachedTrunkDataset(train_dir, changed, VIEWS)
    changed = copy.deepcopy(ds_cfg)
    changed.domains = ['D1']
    with pytest.raises(TrunkCacheError, match='dataset config'):
        CachedTrunkDataset(train_dir, changed, VIEWS)
    # Weights: the runner built from the config with trunk_cache (as
    # tools/train.py does) accepts the cache for the weights it trains ...
    cached_cfg = load_cfg(DEMO, dict(opts, work_dir=str(tmp_path)))
    runner = build_runner(cached_cfg)
    runner._init_model_weights()
    hook = [h for h in runner.hooks if isinstance(h, TrunkCacheCheckHook)]
    assert len(hook) == 1
    hook[0].before_train(runner)
    before = trunk_fingerprint(runner.model)
    # ... a trained top stage does not change the trunk's hash ...
    runner.model.encoders.flow.backbone.layer4[0].conv1.conv.weight.data \
        .add_(1.0)
    assert trunk_fingerprint(runner.model) == before
    hook[0].before_test(runner)
    # ... other trunk weights are refused.
    runner.model.encoders.flow.backbone.layer1[0].conv1.conv.weight.data \
        .mul_(1.01)
    with pytest.raises(TrunkCacheError, match='trunk weights sha256'):
        hook[0].before_train(runner)


def test_interrupted_cache_never_read_as_complete(data_root, tmp_path):
    # A clip that fails half-way through writing the training split.
    broken = str(tmp_path / 'data')
    generate_epic_kitchens(broken, clips_per_split=dict(train=2, test=1))
    # The training set lists D2's clips, then D3's: D3's RGB frames go.
    frames = glob.glob(osp.join(broken, 'rgb', 'train', 'D3', '**',
                                '*.jpg'), recursive=True)
    assert frames
    for f in frames:
        os.remove(f)
    cfg, _ = demo_cfg(broken, tmp_path / 'work', tmp_path / 'cache')
    with pytest.raises(FileNotFoundError):
        build_trunk_cache(cfg, batch_size=1)
    cache = tmp_path / 'cache'
    assert os.listdir(cache) == []  # nothing half-written is left
    with pytest.raises(TrunkCacheError, match='does not exist'):
        CachedTrunkDataset(str(cache / 'train'),
                           cfg.train_dataloader.dataset, VIEWS)


def test_incomplete_or_truncated_split_refused(fp16_cache, tmp_path):
    import shutil
    cfg, _, report = fp16_cache
    ds_cfg = cfg.val_dataloader.dataset
    split = tmp_path / 'val'
    shutil.copytree(osp.join(report['cache_dir'], 'val'), split)
    array = sorted(glob.glob(str(split / '*.npy')))[0]
    with open(array, 'r+b') as f:  # killed while writing the arrays
        f.truncate(os.path.getsize(array) // 2)
    with pytest.raises(TrunkCacheError, match='bytes instead of'):
        CachedTrunkDataset(str(split), ds_cfg, 1)
    os.remove(split / 'manifest.json')  # killed before the manifest
    with pytest.raises(TrunkCacheError, match='incomplete'):
        CachedTrunkDataset(str(split), ds_cfg, 1)
