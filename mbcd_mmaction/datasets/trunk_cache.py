"""Frozen-trunk feature cache: read side and format.

Every method freezes each encoder up to its last stage, so the trunk gives
the same output for the same augmented view in every epoch.
``tools/cache_features.py`` (:func:`mbcd_mmaction.apis.build_trunk_cache`)
runs the trunks once over each dataset of an experiment, ``K`` augmented
views per training clip and one centre view per validation/test clip, and
stores the outputs here; ``trunk_cache=dict(dir=..., num_views=K)`` in a
config (:func:`apply_trunk_cache`) then trains and evaluates any method from
the cache instead of decoding video and running the trunks.

Layout of one split directory (``<dir>/train``, ``<dir>/val``,
``<dir>/test``)::

    manifest.json        # written last; see below
    <modality>_<j>.npy   # part j of the modality's trunk output (SlowFast:
                         # 0 slow, 1 fast), shape (clips, views, ...), fp16

The manifest holds the hash of the frozen trunk weights, the dataset and
pipeline configs, ``num_views``, the arrays' shapes and every clip's label
and metainfo. A split directory appears by an atomic rename of a finished
temporary directory, so a cache interrupted mid-write never has the final
name; a directory without a complete manifest, or one whose manifest
disagrees with the config or the model, is refused with
:class:`TrunkCacheError`.
"""
import copy
import hashlib
import json
import os.path as osp
import random
from typing import Dict, Iterator, Optional, Tuple, Union

import numpy as np
import torch
from mmaction.registry import DATA_SAMPLERS, DATASETS
from mmaction.structures import ActionDataSample
from mmengine.dataset import DefaultSampler
from torch.utils.data import Dataset

FORMAT_VERSION = 1
MANIFEST = 'manifest.json'
SPLITS = ('train', 'val', 'test')


class TrunkCacheError(RuntimeError):
    """A trunk cache is missing, incomplete, or does not match the run."""


def canonical(obj):
    """A config (ConfigDict, tuples, ...) as plain JSON values, so two
    configs compare equal exactly when their JSON is the same."""
    if hasattr(obj, 'to_dict'):
        obj = obj.to_dict()
    return json.loads(json.dumps(obj, sort_keys=True, default=str))


def dataset_spec(dataset_cfg: dict) -> Tuple[dict, list]:
    """``(dataset cfg without pipeline, pipeline)`` as stored in and
    compared with a manifest."""
    spec = canonical(dataset_cfg)
    pipeline = spec.pop('pipeline', [])
    return spec, pipeline


def trunk_fingerprint(model) -> str:
    """SHA-256 of every frozen trunk tensor (parameters and buffers, by
    name, shape and dtype) of ``model.encoders``; the trainable top stages
    are left out, so training does not change it."""
    h = hashlib.sha256()
    for m, enc in sorted(model.encoders.items()):
        top = {id(t) for layer in enc.top_layers().values()
               for t in layer.state_dict(keep_vars=True).values()}
        for name, t in enc.backbone.state_dict(keep_vars=True).items():
            if id(t) in top:
                continue
            t = t.detach().cpu().contiguous()
            h.update(f'{m}.{name}:{t.dtype}:{tuple(t.shape)}'.encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def split_dir(cache_dir: str, split: str) -> str:
    return osp.join(cache_dir, split)


def read_manifest(directory: str) -> dict:
    """The manifest of a finished split directory, or an error saying what
    is wrong with it."""
    path = osp.join(directory, MANIFEST)
    if not osp.isdir(directory):
        raise TrunkCacheError(
            f'trunk cache {directory} does not exist; build it with '
            '`python tools/cache_features.py CONFIG` (the same config and '
            '--cfg-options as training)')
    if not osp.isfile(path):
        raise TrunkCacheError(
            f'trunk cache {directory} has no {MANIFEST}: it is incomplete '
            '(interrupted while being written?); rebuild it with '
            'tools/cache_features.py --overwrite')
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        raise TrunkCacheError(f'{path} is unreadable ({e}); rebuild the '
                              'cache with tools/cache_features.py '
                              '--overwrite') from e
    if manifest.get('format') != FORMAT_VERSION or \
            not manifest.get('complete'):
        raise TrunkCacheError(
            f'{path}: not a complete trunk cache of format {FORMAT_VERSION} '
            f'(format={manifest.get("format")!r}, complete='
            f'{manifest.get("complete")!r}); rebuild it with '
            'tools/cache_features.py --overwrite')
    for name, arr in manifest['arrays'].items():
        file = osp.join(directory, arr['file'])
        expected = arr['bytes']
        if not osp.isfile(file) or osp.getsize(file) != expected:
            raise TrunkCacheError(
                f'trunk cache {directory}: array file {file} is missing or '
                f'has {osp.getsize(file) if osp.isfile(file) else 0} bytes '
                f'instead of {expected}; rebuild the cache')
    return manifest


def check_manifest(manifest: dict, directory: str, dataset_cfg: dict,
                   num_views: int, trunk_sha256: Optional[str] = None
                   ) -> None:
    """Refuse a cache built for other data, another pipeline, another
    number of views or other trunk weights, naming what differs."""
    spec, pipeline = dataset_spec(dataset_cfg)
    problems = []
    if manifest['dataset'] != spec:
        problems.append(f'dataset config {manifest["dataset"]} != the '
                        f"run's {spec}")
    if manifest['pipeline'] != pipeline:
        problems.append(f'pipeline {manifest["pipeline"]} != the run\'s '
                        f'{pipeline}')
    if manifest['num_views'] != num_views:
        problems.append(f'num_views {manifest["num_views"]} != the run\'s '
                        f'{num_views}')
    if trunk_sha256 is not None and manifest['trunk_sha256'] != \
            trunk_sha256:
        problems.append(
            f'frozen trunk weights sha256 {manifest["trunk_sha256"][:12]}.. '
            f"!= the model's {trunk_sha256[:12]}.. (other pretrained "
            'weights or encoder config)')
    if problems:
        raise TrunkCacheError(
            f'trunk cache {directory} is stale: ' + '; '.join(problems) +
            '. Rebuild it with tools/cache_features.py --overwrite (same '
            'config and --cfg-options as training)')


def seed_view(seed: int, clip: int, view: int) -> None:
    """Seeds Python's, NumPy's and torch's generators for augmented view
    ``view`` of clip ``clip``: the same view is drawn again from the same
    arguments (tests compare cached and live trunks on it)."""
    state = int(np.random.SeedSequence([seed, clip, view])
                .generate_state(1)[0])
    random.seed(state)
    np.random.seed(state)
    torch.manual_seed(state)


def live_sample(dataset, seed: int, clip: int, view: int) -> dict:
    """Pipeline output of view ``view`` of ``clip``, as the cache drew
    it. ``prepare_data``, not ``dataset[clip]``: mmengine's training-mode
    ``__getitem__`` would silently substitute another clip for a failed
    one."""
    seed_view(seed, clip, view)
    data = dataset.prepare_data(clip)
    if data is None:
        raise TrunkCacheError(f'clip {clip} of {type(dataset).__name__}: '
                              'the pipeline returned None')
    return data



@DATASETS.register_module()
class CachedTrunkDataset(Dataset):
    """Trunk outputs of a dataset's clips, read from a trunk cache.

    Items are what the model's data preprocessor receives, with the trunk
    outputs in place of the clips: ``inputs[modality]`` is a tensor (or a
    tuple, e.g. SlowFast's (slow, fast)) in the stored dtype; the data
    sample carries the label and metainfo of the original clip. Index with
    ``(clip, view)`` (:class:`CachedViewSampler` does); a plain ``clip``
    index is allowed for single-view caches (validation, test).

    Args:
        cache_dir (str): The split directory (``<trunk_cache.dir>/train``).
        dataset (dict): Config of the dataset the cache was built from; it
            is compared with the manifest (never built).
        num_views (int): Views per clip the run expects.
    """

    def __init__(self, cache_dir: str, dataset: dict, num_views: int = 1):
        self.cache_dir = cache_dir
        self.dataset_cfg = dataset
        self.num_views = num_views
        self.manifest = read_manifest(cache_dir)
        check_manifest(self.manifest, cache_dir, dataset, num_views)
        self.samples = self.manifest['samples']
        self._arrays = None  # opened lazily, in each worker process

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.manifest.get('metainfo', {}))

    @property
    def trunk_sha256(self) -> str:
        return self.manifest['trunk_sha256']

    def __len__(self) -> int:
        return len(self.samples)

    def __getstate__(self):
        # Memory maps must not be pickled into dataloader workers (that
        # would copy the arrays); each worker opens its own.
        state = self.__dict__.copy()
        state['_arrays'] = None
        return state

    def _open(self) -> Dict[str, np.ndarray]:
        if self._arrays is None:
            self._arrays = {
                name: np.load(osp.join(self.cache_dir, arr['file']),
                              mmap_mode='r')
                for name, arr in self.manifest['arrays'].items()}
        return self._arrays

    def __getitem__(self, index: Union[int, Tuple[int, int]]) -> dict:
        if isinstance(index, (tuple, list)):
            clip, view = (int(i) for i in index)
        else:
            clip, view = int(index), 0
            if self.num_views != 1:
                raise TypeError(
                    f'{self.cache_dir} holds {self.num_views} views per clip;'
                    ' index it with (clip, view): use '
                    "sampler=dict(type='CachedViewSampler') for training")
        if not 0 <= view < self.num_views:
            raise IndexError(f'view {view} of {self.cache_dir}: the cache '
                             f'has views 0..{self.num_views - 1}')
        arrays = self._open()
        inputs = {}
        for m, parts in self.manifest['modalities'].items():
            tensors = tuple(torch.from_numpy(np.array(arrays[p][clip, view]))
                            for p in parts['arrays'])
            inputs[m] = tensors if parts['tuple'] else tensors[0]
        info = self.samples[clip]
        sample = ActionDataSample().set_gt_label(info['label'])
        sample.set_metainfo(info['metainfo'])
        return dict(inputs=inputs, data_samples=sample)


@DATA_SAMPLERS.register_module()
class CachedViewSampler(DefaultSampler):
    """mmengine's :class:`DefaultSampler` (same order, same split across
    ranks) yielding ``(clip, view)``: each epoch draws one of the cached
    views of every clip, a function of the sampler's seed, the epoch and
    the clip only, so runs are reproducible, every rank agrees, and a
    resumed epoch draws the same views."""

    def _views(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, self.epoch])
        return rng.integers(self.dataset.num_views, size=len(self.dataset))

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        views = self._views()
        for i in super().__iter__():
            yield i, int(views[i])


@DATASETS.register_module()
class ReplayedViewDataset(Dataset):
    """A live training dataset indexed like :class:`CachedTrunkDataset`:
    item ``(clip, view)`` is decoded and augmented afresh, as the view that
    a cache of ``num_views`` views built with ``seed`` stores for that clip
    (:func:`live_sample`). Trained with :class:`CachedViewSampler`, a live
    run then sees exactly the inputs of the run from that cache, so the two
    differ only in where the trunk outputs come from
    (``tools/cache_benchmark.py`` times and compares them). Python's,
    NumPy's and torch's generators are restored after every item: the
    model's own random draws (dropout) are those of the cached run.

    Args:
        dataset (dict | Dataset): The training dataset (config or built).
        num_views (int): Views per clip of the cache being replayed.
        seed (int): The seed the cache was built with.
    """

    def __init__(self, dataset, num_views: int, seed: int):
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) \
            else dataset
        if int(num_views) < 1:
            raise ValueError(f'ReplayedViewDataset: num_views must be >= 1, '
                             f'got {num_views!r}')
        self.num_views = int(num_views)
        self.seed = int(seed)

    @property
    def metainfo(self) -> dict:
        return self.dataset.metainfo

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: Tuple[int, int]) -> dict:
        if not isinstance(index, (tuple, list)):
            raise TypeError('ReplayedViewDataset is indexed with (clip, '
                            "view): use sampler=dict(type='CachedViewSampler')")
        clip, view = (int(i) for i in index)
        if not 0 <= view < self.num_views:
            raise IndexError(f'view {view}: the replayed cache has views '
                             f'0..{self.num_views - 1}')
        states = random.getstate(), np.random.get_state(), \
            torch.get_rng_state()
        try:
            return live_sample(self.dataset, self.seed, clip, view)
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])


def replay_cached_views(cfg, num_views: int, seed: int) -> None:
    """Make ``cfg``'s live training read the views a cache of ``num_views``
    views built with ``seed`` stores (:class:`ReplayedViewDataset` and
    :class:`CachedViewSampler`), so it trains on the same inputs as the run
    from that cache. Call after the protocol has filled the datasets'
    domains."""
    loader = cfg.train_dataloader
    loader['dataset'] = dict(type='ReplayedViewDataset',
                             dataset=loader['dataset'], num_views=num_views,
                             seed=seed)
    sampler = dict(loader.get('sampler', None) or {})
    sampler['type'] = 'CachedViewSampler'
    loader['sampler'] = sampler


def apply_trunk_cache(cfg) -> None:
    """``trunk_cache=dict(dir=DIR, num_views=K)`` in a config: train,
    validate and test from the cache in ``DIR`` (built by
    ``tools/cache_features.py`` with the same config) instead of decoding
    clips and running the frozen trunks. Rewrites the dataloaders (cached
    datasets, :class:`CachedViewSampler` for training), the model's data
    preprocessor and adds :class:`TrunkCacheCheckHook`. Call after the
    protocol has filled the datasets' domains. Idempotent."""
    tc = cfg.get('trunk_cache', None)
    if not tc:
        return
    if not tc.get('dir'):
        raise ValueError('trunk_cache.dir is required (the directory '
                         'tools/cache_features.py wrote)')
    num_views = int(tc.get('num_views', 1))
    for split, loader_key in zip(SPLITS, ('train_dataloader',
                                          'val_dataloader',
                                          'test_dataloader')):
        loader = cfg.get(loader_key, None)
        if not loader:
            continue
        ds = loader['dataset']
        if ds.get('type') == 'CachedTrunkDataset':
            continue
        loader['dataset'] = dict(
            type='CachedTrunkDataset', cache_dir=split_dir(tc['dir'], split),
            dataset=ds, num_views=num_views if split == 'train' else 1)
        if split == 'train':
            sampler = dict(loader.get('sampler', None) or {})
            sampler['type'] = 'CachedViewSampler'
            loader['sampler'] = sampler
    cfg.model['data_preprocessor'] = dict(
        type='mmaction.CachedTrunkPreprocessor')
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not any(h.get('type') == 'TrunkCacheCheckHook' for h in hooks):
        hooks.append(dict(type='TrunkCacheCheckHook'))
    cfg.custom_hooks = hooks


def unwrap_cached(dataset_cfg: dict) -> dict:
    """The original dataset config of a (possibly) cached one."""
    if dataset_cfg.get('type') == 'CachedTrunkDataset':
        return dataset_cfg['dataset']
    return dataset_cfg

