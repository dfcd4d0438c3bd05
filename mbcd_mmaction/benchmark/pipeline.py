"""Data pipeline throughput per worker (``tools/benchmark.py``).

Clips per second of one process running the training pipeline of the demo
configs (what one dataloader worker does) for RGB, flow, audio and all
three, on generated data in EPIC's frame layout (raw jpgs), EPIC's
mp4-per-clip layout and HAC's mp4 layout (both decoded by decord, the
project's video reader); and raw decoding speed of the same mp4s with each
installed decoder (decord, PyAV, torchcodec).
"""
import copy
import glob
import importlib.util
import os.path as osp
import time
from typing import Dict, List

import numpy as np
from mmaction.registry import DATASETS
from mmengine.config import Config

from mbcd_mmaction.datasets.synthetic import (generate_epic_kitchens,
                                              generate_hac)

MODALITY_SETS = dict(rgb=('rgb', ), flow=('flow', ), audio=('audio', ),
                     all=('rgb', 'flow', 'audio'))
DECODERS = ('decord', 'av', 'torchcodec')


def generate_data(root: str, clips: int, frame_size) -> Dict[str, str]:
    """Small EPIC (frames + clips layouts) and HAC datasets under root."""
    counts = dict(train=clips, test=1)
    epic, hac = osp.join(root, 'epic'), osp.join(root, 'hac')
    generate_epic_kitchens(epic, layout='both', clips_per_split=counts,
                           frame_size=frame_size, domains=('D1', ))
    generate_hac(hac, clips_per_split=counts, frame_size=frame_size,
                 domains=('human', ))
    return dict(epic=epic, hac=hac)


def _pipeline(config_root: str, dataset: str, mods) -> List[dict]:
    name = 'epic_kitchens_demo.py' if dataset == 'epic' else 'hac_demo.py'
    cfg = Config.fromfile(osp.join(config_root, '_base_', 'datasets', name))
    pipeline = copy.deepcopy(cfg.train_pipeline)
    for t in pipeline:
        if t['type'] == 'PackActionInputs':
            t['collect_keys'] = tuple(mods)
    return pipeline


def pipeline_throughput(config_root: str, roots: Dict[str, str],
                        passes: int) -> dict:
    """``{source: {modality set: clips/s}}`` for one process (a worker)."""
    sources = dict(
        epic_frames_jpg=dict(type='EpicKitchensDataset', layout='frames',
                             data_root=roots['epic'], domains=['D1']),
        epic_clips_decord=dict(type='EpicKitchensDataset', layout='clips',
                               data_root=roots['epic'], domains=['D1']),
        hac_mp4_decord=dict(type='HACDataset', data_root=roots['hac'],
                            domains=['human']))
    out = {}
    for source, ds_cfg in sources.items():
        dataset_name = source.split('_')[0]
        out[source] = {}
        for set_name, mods in MODALITY_SETS.items():
            ds = DATASETS.build(dict(
                ds_cfg, split='train', modalities=mods,
                pipeline=_pipeline(config_root, dataset_name, mods)))
            ds[0]  # opens files, warms caches
            n = len(ds) * passes
            start = time.perf_counter()
            for i in range(n):
                ds[i % len(ds)]
            out[source][set_name] = n / (time.perf_counter() - start)
    return out


def decoder_throughput(roots: Dict[str, str], clip_len: int,
                       frame_interval: int, passes: int) -> dict:
    """Clips/s decoding ``clip_len`` RGB frames (every ``frame_interval``-th
    from the start) of each generated mp4 with each installed decoder;
    ``None`` for a decoder that is not installed."""
    videos = sorted(glob.glob(osp.join(roots['hac'], '**', 'rgb', '*.mp4'),
                              recursive=True) +
                    glob.glob(osp.join(roots['epic'], '**', 'EPIC-mp4', '**',
                                       '*.mp4'), recursive=True))
    inds = list(range(0, clip_len * frame_interval, frame_interval))

    def decord_clip(path):
        import decord
        reader = decord.VideoReader(path, num_threads=1)
        return reader.get_batch([i % len(reader) for i in inds]).asnumpy()

    def av_clip(path):
        import av
        wanted, frames = set(inds), []
        with av.open(path) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i in wanted:
                    frames.append(frame.to_ndarray(format='rgb24'))
                if i >= inds[-1]:
                    break
        return np.stack(frames)

    def torchcodec_clip(path):
        from torchcodec.decoders import VideoDecoder
        decoder = VideoDecoder(path)
        return decoder.get_frames_at(
            [i % len(decoder) for i in inds]).data.numpy()

    readers = dict(decord=decord_clip, av=av_clip,
                   torchcodec=torchcodec_clip)
    out = dict(videos=len(videos), clip_len=clip_len,
               frame_interval=frame_interval)
    for name in DECODERS:
        if importlib.util.find_spec(name) is None:
            out[name] = None
            continue
        readers[name](videos[0])
        start = time.perf_counter()
        for _ in range(passes):
            for path in videos:
                readers[name](path)
        out[name] = passes * len(videos) / (time.perf_counter() - start)
    return out


def loader_throughput(config_root: str, roots: Dict[str, str],
                      workers: List[int], batch_size: int,
                      batches: int) -> dict:
    """``{workers: clips/s}`` of a DataLoader over the generated EPIC frames
    (jpgs, all three modalities, the demo's training pipeline) with that
    many worker processes (0: in this process), after its first batch."""
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader, RandomSampler
    mods = MODALITY_SETS['all']
    ds = DATASETS.build(dict(
        type='EpicKitchensDataset', layout='frames', data_root=roots['epic'],
        domains=['D1'], split='train', modalities=mods,
        pipeline=_pipeline(config_root, 'epic', mods)))
    out = {}
    for n in workers:
        sampler = RandomSampler(ds, replacement=True,
                                num_samples=batch_size * (batches + 1))
        loader = DataLoader(ds, batch_size=batch_size, sampler=sampler,
                            num_workers=n, collate_fn=pseudo_collate)
        it = iter(loader)
        next(it)  # starts the workers
        start = time.perf_counter()
        count = sum(len(batch['data_samples']) for batch in it)
        out[str(n)] = count / (time.perf_counter() - start)
    return out
