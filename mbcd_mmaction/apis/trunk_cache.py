"""Builds the frozen-trunk feature cache (``tools/cache_features.py``).

The read side, the format and the config switch are in
:mod:`mbcd_mmaction.datasets.trunk_cache`.
"""
import copy
import json
import os
import os.path as osp
import shutil
import tempfile
import time
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmengine.runner.utils import set_random_seed

from mbcd_mmaction.datasets.trunk_cache import (FORMAT_VERSION, MANIFEST,
                                                SPLITS, TrunkCacheError,
                                                canonical, dataset_spec,
                                                live_sample, split_dir,
                                                trunk_fingerprint)
from mbcd_mmaction.engine.runner.atomic import atomic_write_bytes, fsync_dir

LOADERS = dict(train='train_dataloader', val='val_dataloader',
               test='test_dataloader')
DTYPES = ('float16', 'float32')


def _write_split(model, dataset, directory: str, num_views: int, seed: int,
                 dtype: str, batch_size: int) -> dict:
    """Trunk outputs of every clip and view into ``directory`` (a fresh
    temporary directory); returns the manifest (written last)."""
    n = len(dataset)
    if n == 0:
        raise TrunkCacheError(f'{directory}: the dataset has no clips')
    arrays, meta, samples = {}, {}, []
    jobs = [(i, v) for i in range(n) for v in range(num_views)]
    for start in range(0, len(jobs), batch_size):
        chunk = jobs[start:start + batch_size]
        items = [live_sample(dataset, seed, i, v) for i, v in chunk]
        data = model.data_preprocessor(pseudo_collate(items), False)
        with torch.no_grad():
            outs = model.extract_trunk(data['inputs'])
        for m, out in outs.items():
            parts = out if isinstance(out, (tuple, list)) else (out, )
            if m not in meta:
                meta[m] = dict(tuple=isinstance(out, (tuple, list)),
                               arrays=[f'{m}_{j}' for j in
                                       range(len(parts))])
                for j, p in enumerate(parts):
                    arrays[f'{m}_{j}'] = np.lib.format.open_memmap(
                        osp.join(directory, f'{m}_{j}.npy'), mode='w+',
                        dtype=dtype, shape=(n, num_views, *p.shape[1:]))
            for j, p in enumerate(parts):
                values = p.detach().cpu().numpy().astype(dtype)
                for row, (i, v) in enumerate(chunk):
                    arrays[f'{m}_{j}'][i, v] = values[row]
        for (i, v), sample in zip(chunk, data['data_samples']):
            if v == 0:
                samples.append(dict(
                    label=int(sample.gt_label.reshape(-1)[0]),
                    metainfo=canonical(dict(sample.metainfo))))
    for arr in arrays.values():
        arr.flush()
    per_view = sum(a.dtype.itemsize * int(np.prod(a.shape[2:]))
                   for a in arrays.values())
    return dict(
        arrays={name: dict(file=f'{name}.npy', shape=list(a.shape),
                           dtype=dtype,
                           bytes=osp.getsize(osp.join(directory,
                                                      f'{name}.npy')))
                for name, a in arrays.items()},
        modalities=meta, samples=samples, clips=n,
        bytes_per_view=per_view, bytes_per_clip=per_view * num_views,
        metainfo=canonical(dataset.metainfo))


def build_trunk_cache(cfg: Config, cache_dir: Optional[str] = None,
                      num_views: Optional[int] = None,
                      splits: Sequence[str] = SPLITS,
                      dtype: str = 'float16', batch_size: int = 8,
                      seed: int = 0, overwrite: bool = False) -> Dict:
    """Run the frozen trunks of ``cfg.model`` over the datasets of
    ``cfg`` (live, i.e. loaded with ``use_trunk_cache=False``) and write
    the cache: ``num_views`` augmented views per training clip, one view
    per validation/test clip. Each split appears atomically.

    Returns:
        dict: Per split: clips, views, bytes per clip and view, seconds.
    """
    # The datasets' transforms are found in the config's registry scope.
    with DefaultScope.overwrite_default_scope(
            cfg.get('default_scope', 'mmaction')):
        return _build_trunk_cache(cfg, cache_dir, num_views, splits, dtype,
                                  batch_size, seed, overwrite)


def _build_trunk_cache(cfg, cache_dir, num_views, splits, dtype, batch_size,
                       seed, overwrite) -> Dict:
    tc = dict(cfg.get('trunk_cache', None) or {})
    cache_dir = cache_dir or tc.get('dir')
    if not cache_dir:
        raise ValueError('no cache directory: pass --out or set '
                         'trunk_cache=dict(dir=...) in the config')
    num_views = int(num_views or tc.get('num_views', 1))
    if num_views < 1:
        raise ValueError(f'num_views must be >= 1, got {num_views}')
    if dtype not in DTYPES:
        raise ValueError(f'dtype must be one of {DTYPES}, got {dtype!r}')
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise ValueError(f'splits {unknown}: expected some of {SPLITS}')
    logger = MMLogger.get_current_instance()
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    # Seeded as mmengine's Runner seeds before it builds the model, so
    # trunks without pretrained weights (the demo) get the initialisation
    # training will give them.
    randomness = dict(cfg.get('randomness', None) or {})
    if randomness.get('seed') is not None:
        set_random_seed(randomness['seed'],
                        deterministic=randomness.get('deterministic', False))
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    model = model.to(device).eval()
    fingerprint = trunk_fingerprint(model)
    os.makedirs(cache_dir, exist_ok=True)
    report = dict(cache_dir=cache_dir, trunk_sha256=fingerprint,
                  dtype=dtype, splits={})
    for split in splits:
        loader = cfg.get(LOADERS[split], None)
        if not loader:
            continue
        final = split_dir(cache_dir, split)
        if osp.exists(final) and not overwrite:
            raise FileExistsError(f'{final} exists; pass --overwrite to '
                                  'rebuild it')
        ds_cfg = loader['dataset']
        if ds_cfg.get('type') == 'CachedTrunkDataset':
            raise ValueError(f'{LOADERS[split]}.dataset is already a '
                             'cached dataset: load the config with '
                             'use_trunk_cache=False')
        views = num_views if split == 'train' else 1
        dataset = DATASETS.build(copy.deepcopy(ds_cfg))
        spec, pipeline = dataset_spec(ds_cfg)
        tmp = tempfile.mkdtemp(prefix=f'.{split}.', suffix='.tmp',
                               dir=cache_dir)
        start = time.perf_counter()
        try:
            manifest = _write_split(model, dataset, tmp, views, seed, dtype,
                                    batch_size)
            manifest.update(format=FORMAT_VERSION, split=split,
                            num_views=views, seed=seed, dataset=spec,
                            pipeline=pipeline, trunk_sha256=fingerprint)
            manifest['complete'] = True
            # The manifest last: without it the directory is incomplete.
            atomic_write_bytes(osp.join(tmp, MANIFEST),
                               _json_bytes(manifest))
            fsync_dir(tmp)
            if osp.exists(final):
                old = tempfile.mkdtemp(prefix=f'.{split}.', suffix='.old',
                                       dir=cache_dir)
                os.replace(final, osp.join(old, split))
                os.replace(tmp, final)
                shutil.rmtree(old)
            else:
                os.replace(tmp, final)
            fsync_dir(cache_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        seconds = time.perf_counter() - start
        report['splits'][split] = dict(
            clips=manifest['clips'], views=views,
            bytes_per_view=manifest['bytes_per_view'],
            bytes_per_clip=manifest['bytes_per_clip'],
            bytes=sum(a['bytes'] for a in manifest['arrays'].values()),
            seconds=seconds)
        logger.info(f'trunk cache {final}: {manifest["clips"]} clips x '
                    f'{views} views, {manifest["bytes_per_view"]} bytes '
                    f'per view, {seconds:.1f} s')
    return report


def _json_bytes(obj) -> bytes:
    return json.dumps(obj, indent=1).encode()
