"""Adaptive modality dropout (MBCD Eq. 2-4) computes its confidence ratios
on the global batch under DDP: the drop probabilities do not depend on how
many processes share the batch, or on how it is split between them."""
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow

N, C = 16, 8
MODALITIES = ('rgb', 'flow', 'audio')


def _logits():
    g = torch.Generator().manual_seed(0)
    # different confidence levels per modality (and per sample)
    scales = {'rgb': 3.0, 'flow': 0.5, 'audio': 1.5}
    return {m: torch.randn(N, C, generator=g) * scales[m] *
            torch.linspace(0.2, 2.0, N).unsqueeze(1) for m in MODALITIES}


def _probs(logits):
    from mbcd_mmaction.models.necks import AdaptiveDropoutFusion
    probs = AdaptiveDropoutFusion(mode='adaptive').drop_probabilities(logits)
    return torch.stack([probs[m] for m in MODALITIES])


def _worker(rank, world_size, port, splits, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=world_size)
    try:
        for split in splits:
            start, stop = _bounds(split)[rank]
            local = {m: v[start:stop] for m, v in _logits().items()}
            out[(split, rank)] = _probs(local)
    finally:
        dist.destroy_process_group()


def _bounds(split):
    return [(0, split), (split, N)]


def _port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


SPLITS = (8, 5)  # equal halves, and 5 + 11 samples


def test_drop_probabilities_use_the_global_batch():
    import mbcd_mmaction.registration  # noqa: F401  (registers every component)
    whole = _probs(_logits())  # one process, the whole batch
    assert whole.max() > 0.1  # some modality is dropped at all
    for split in SPLITS:
        halves = [_probs({m: v[a:b] for m, v in _logits().items()})
                  for a, b in _bounds(split)]
        # on its own, a rank's share would give other probabilities
        assert any((h - whole).abs().max() > 1e-3 for h in halves)

    out = mp.Manager().dict()
    mp.spawn(_worker, args=(2, _port(), SPLITS, out), nprocs=2, join=True)
    for split in SPLITS:
        for rank in (0, 1):
            torch.testing.assert_close(out[(split, rank)], whole, rtol=1e-6,
                                       atol=1e-7, msg=f'{split} {rank}')
