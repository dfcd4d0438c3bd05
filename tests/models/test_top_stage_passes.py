"""How often one training iteration of each shipped method runs the
trainable top stages forward and backward, and how many gradients those
backward passes carry, counted as ``tools/benchmark.py`` counts them
(``top_stage_passes_fwd/bwd``, ``top_stage_gradients_bwd``).

The top stages are the expensive trainable part of an iteration, and a
backward pass costs about one pass per gradient it carries (a batched
``torch.autograd.grad`` is one pass doing the work of several), so a
method that computes one gradient more than it needs to is slower by a
whole pass; here that shows as a failing number. The floors: ERM-like
methods 1 forward, 1 backward, 1 gradient; MBCD's look-ahead a second
forward and one batched backward at ``theta`` for ``grad CE_k`` (the
look-ahead needs it alone) and the uni-modal distillation's gradient,
then the final backward at ``theta'`` (2, 2, 3: the final backward reuses
``grad CE_k``); GMP one batched backward for each modality's task and
domain gradients (the projection needs both) before the final one
(1, 2, 3); MBCD+GMP one batched backward for GMP's two and the
distillation's, the look-ahead reusing GMP's task gradient (2, 2, 4).
"""
import pytest
import torch
from mmaction.registry import MODELS

from mbcd_mmaction.benchmark.training import (count_top_stage_passes,
                                              discover_methods,
                                              load_method_cfg)
from tests.models import tiny

#: method (as the benchmark discovers it) -> (forward passes, backward
#: passes, gradients carried back)
EXPECTED = {
    'erm': (1, 1, 1),
    'ema': (1, 1, 1),
    'rna': (1, 1, 1),
    'cmrf': (1, 1, 1),
    'simmmdg': (1, 1, 1),
    'moosa': (1, 1, 1),
    'mbcd': (2, 2, 3),
    'gmp': (1, 2, 3),
    'rna_gmp': (1, 2, 3),
    'cmrf_gmp': (1, 2, 3),
    'simmmdg_gmp': (1, 2, 3),
    'moosa_gmp': (1, 2, 3),
    'mbcd_gmp': (2, 2, 4),
    'table4_ema_epic_af': (1, 1, 1),
    'table4_ema_amd_epic_af': (1, 1, 1),
    'table4_ema_dl_epic_af': (1, 1, 1),
    'table4_ema_gcc_epic_af': (2, 2, 2),
    'table5_fixdrop_epic_af': (2, 2, 3),
    'table5_nodrop_epic_af': (2, 2, 3),
}
MODALITIES = ('rgb', 'flow', 'audio')
DOMAINS = ['D2', 'D3']
METHODS = discover_methods('configs')
#: the fast tier (the methods whose passes an optimisation removed); the
#: others are slow (about 2 s each on the 2-core CI machine)
FAST = ('erm', 'mbcd', 'gmp', 'mbcd_gmp')


def test_every_discovered_method_has_its_number():
    assert sorted(METHODS) == sorted(EXPECTED)


@pytest.mark.parametrize('name', [
    n if n in FAST else pytest.param(n, marks=pytest.mark.slow)
    for n in sorted(EXPECTED)])
def test_top_stage_passes(name):
    cfg = load_method_cfg(METHODS[name], MODALITIES, smoke=False)
    cfg.model.encoders = {m: tiny.ENCODERS[m]() for m in MODALITIES}
    torch.manual_seed(0)
    model = MODELS.build(cfg.model.to_dict()).train()  # random weights
    data = model.data_preprocessor(
        tiny.with_domains(tiny.batch(2, MODALITIES, seed=0), DOMAINS), True)

    def step():
        losses = model(**data, mode='loss')
        sum(v for k, v in losses.items() if 'loss' in k).backward()

    assert count_top_stage_passes(model, step) == EXPECTED[name]
    # DDP needs every trainable tensor's gradient from that one backward.
    missing = [n for n, p in model.named_parameters()
               if p.requires_grad and p.grad is None]
    assert not missing, missing
