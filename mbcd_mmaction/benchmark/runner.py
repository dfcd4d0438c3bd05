"""``tools/benchmark.py``: one JSON object with every figure from one run."""
import math
import os
import platform
import tempfile
import time

import torch
from mmengine.registry import init_default_scope

from mbcd_mmaction.engine.runner.host_memory import \
    retain_freed_host_memory

from .pipeline import (decoder_throughput, generate_data, loader_throughput,
                       pipeline_throughput)
from .training import SHAPES, benchmark_methods, discover_methods

MODALITIES = ('rgb', 'flow', 'audio')


def _choice(value: str, cuda: bool) -> bool:
    return cuda if value == 'auto' else value == 'on'


def run_benchmark(args) -> dict:
    """Every figure of the benchmark, as a JSON-serialisable dict."""
    init_default_scope('mmaction')  # the configs' transforms and models
    device = torch.device('cuda' if args.device == 'cuda' or (
        args.device == 'auto' and torch.cuda.is_available()) else 'cpu')
    cuda = device.type == 'cuda'
    size = args.size
    if args.smoke:
        size = 'smoke'
    elif size == 'auto':
        size = 'full' if cuda else 'reduced'
    batch_size = args.batch_size or (16 if cuda and not args.smoke else 2)
    warmup, iters, breakdown = (args.warmup, args.iters,
                                args.breakdown_iters)
    if args.smoke:
        warmup, iters, breakdown = 0, 1, 1
    methods = discover_methods(args.config_root)
    if args.methods:
        unknown = sorted(set(args.methods) - set(methods))
        if unknown:
            raise KeyError(f'--methods {unknown}: not found; discovered '
                           f'{sorted(methods)}')
        methods = {k: v for k, v in methods.items()
                   if k in args.methods or k == 'erm'}
    retain = _choice(args.retain_host_memory, not cuda)
    settings = dict(
        retain_host_memory=retain and retain_freed_host_memory(),
        smoke=args.smoke, size=size, shapes=SHAPES[size],
        batch_size=batch_size, warmup=warmup, iters=iters,
        breakdown_iters=breakdown, device=str(device),
        amp_bf16=_choice(args.amp, cuda),
        channels_last=_choice(args.channels_last, cuda),
        pin_memory=_choice(args.pin_memory, cuda),
        encoders='paper architectures (SlowFast R101 8x8, SlowOnly R50 '
        'flow, ResNet-18 audio), random weights' if not args.smoke else
        'demo-width encoders (smoke)')
    machine = dict(
        cpu_count=os.cpu_count(), torch_threads=torch.get_num_threads(),
        torch=torch.__version__, python=platform.python_version(),
        processor=platform.processor() or platform.machine(),
        gpu=torch.cuda.get_device_name(device) if cuda else None)
    start = time.perf_counter()
    results, errors = benchmark_methods(
        methods, SHAPES[size], MODALITIES, batch_size, warmup, iters,
        breakdown, device, settings['amp_bf16'], settings['channels_last'],
        settings['pin_memory'], args.smoke)
    out = dict(machine=machine, settings=settings, methods=results,
               errors=errors, methods_seconds=time.perf_counter() - start)
    if not args.skip_data:
        clips = args.data_clips or (2 if args.smoke else 8)
        passes = args.data_passes or (1 if args.smoke else 3)
        frame_size = tuple(args.frame_size or ((64, 36) if args.smoke
                                               else (456, 256)))
        with tempfile.TemporaryDirectory(prefix='mbcd_benchmark_') as tmp:
            t0 = time.perf_counter()
            roots = generate_data(tmp, clips, frame_size)
            generate_s = time.perf_counter() - t0
            per_worker = pipeline_throughput(args.config_root, roots, passes)
            decoders = decoder_throughput(roots, clip_len=8,
                                          frame_interval=2, passes=passes)
            loader = loader_throughput(
                args.config_root, roots, args.loader_workers, batch_size,
                args.loader_batches) if args.loader_workers else None
        out['data'] = dict(
            frame_size=list(frame_size), clips_per_dataset=clips,
            passes=passes, generate_seconds=generate_s,
            pipeline='configs/_base_/datasets/{epic_kitchens,hac}_demo.py '
            'train_pipeline',
            clips_per_sec_per_worker=per_worker,
            decoder_clips_per_sec=decoders)
        if loader is not None:
            out['data']['loader_clips_per_sec'] = dict(
                batch_size=batch_size, batches=args.loader_batches,
                by_workers=loader)
        # Workers one GPU/CPU needs so that decoding keeps pace with
        # training: batch / (seconds per iteration x clips/s per worker).
        all_rate = per_worker['epic_frames_jpg']['all']
        out['data']['workers_to_keep_up_epic_frames_all'] = {
            name: math.ceil(batch_size / (r['sec_per_iter'] * all_rate))
            for name, r in results.items()}
    return out
