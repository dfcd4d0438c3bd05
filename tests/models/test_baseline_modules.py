"""The baselines' trainable modules and CMRF's moving average."""
import copy
import itertools
import math
import random
import time

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS

from mbcd_mmaction.models.losses import unit_l2_distance
from mbcd_mmaction.models.modules import (CrossModalTranslation,
                                          MultimodalJigsaw, ProjectionHead,
                                          SimpleMovingAverage,
                                          unrank_permutation)


def test_projection_head_layers_and_unit_output():
    head = MODELS.build(dict(type='ProjectionHead', in_channels=6,
                             hidden_channels=10, out_channels=4))
    assert isinstance(head, ProjectionHead)
    kinds = [type(m) for m in head.layers]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear,
                     nn.BatchNorm1d, nn.ReLU, nn.Linear]
    out = head(torch.randn(5, 6))
    assert out.shape == (5, 4)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(5))


# -- translation ------------------------------------------------------------------
DIMS = dict(rgb=6, flow=4, audio=2)


def test_translation_loss_by_hand_and_target_gets_gradient():
    torch.manual_seed(0)
    trans = CrossModalTranslation(dict(rgb=6, audio=2), hidden_channels=8,
                                  mask_ratio=0.0, loss_weight=0.1,
                                  dropout_ratio=0.5).eval()  # no dropout
    assert sorted(trans.translators) == ['audio_to_rgb', 'rgb_to_audio']
    feats = dict(rgb=torch.randn(3, 6, requires_grad=True),
                 audio=torch.randn(3, 2, requires_grad=True))
    loss = trans(feats)
    expected = 0.1 * (unit_l2_distance(
        trans.translators['rgb_to_audio'](feats['rgb']), feats['audio']) +
        unit_l2_distance(trans.translators['audio_to_rgb'](feats['audio']),
                         feats['rgb'])) / 2
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    # The target is not detached: rgb gets a gradient through audio_to_rgb's
    # target even with rgb_to_audio frozen out of the graph.
    g, = torch.autograd.grad(
        unit_l2_distance(trans.translators['audio_to_rgb'](
            feats['audio'].detach()), feats['rgb']), feats['rgb'])
    assert g.abs().sum() > 0


def test_zero_mask_ratio_is_simmmdg_and_draws_nothing():
    torch.manual_seed(0)
    simmmdg = CrossModalTranslation(DIMS, hidden_channels=8, mask_ratio=0.0,
                                    loss_weight=1.0, dropout_ratio=0.5).eval()
    moosa = CrossModalTranslation(DIMS, hidden_channels=8, mask_ratio=0.0,
                                  loss_weight=1.0, dropout_ratio=0.5).eval()
    moosa.load_state_dict(simmmdg.state_dict())
    feats = {m: torch.randn(4, d) for m, d in DIMS.items()}
    state = torch.get_rng_state()
    assert moosa(feats).item() == simmmdg(feats).item()
    assert torch.equal(state, torch.get_rng_state())
    assert len(simmmdg.translators) == 6


def test_mask_is_elementwise_unscaled_and_shared_by_a_source():
    torch.manual_seed(0)
    trans = CrossModalTranslation(dict(rgb=400, flow=4, audio=2),
                                  hidden_channels=8, mask_ratio=0.7,
                                  loss_weight=1.0, dropout_ratio=0.5).eval()
    seen = {}
    for key, mlp in trans.translators.items():
        mlp.register_forward_hook(
            lambda mod, inp, out, key=key: seen.__setitem__(key, inp[0]))
    feats = dict(rgb=torch.rand(50, 400) + 1, flow=torch.rand(50, 4) + 1,
                 audio=torch.rand(50, 2) + 1)
    trans(feats)
    masked = seen['rgb_to_flow']
    assert torch.equal(masked, seen['rgb_to_audio'])  # one mask per source
    kept = masked != 0
    assert torch.equal(masked[kept], feats['rgb'][kept])  # no rescaling
    assert (~kept).float().mean().item() == pytest.approx(0.7, abs=0.01)


def test_translation_checks_modalities_and_ratio():
    trans = CrossModalTranslation(DIMS, hidden_channels=8, mask_ratio=0.0,
                                  loss_weight=1.0, dropout_ratio=0.5)
    with pytest.raises(ValueError, match='built for'):
        trans(dict(rgb=torch.ones(2, 6), flow=torch.ones(2, 4)))
    with pytest.raises(ValueError, match='mask_ratio'):
        CrossModalTranslation(DIMS, hidden_channels=8, mask_ratio=1.0,
                              loss_weight=1.0, dropout_ratio=0.5)


# -- jigsaw -------------------------------------------------------------------------
def test_unranking_matches_itertools_order():
    assert unrank_permutation(0, 3) == (0, 1, 2)
    assert unrank_permutation(3, 3) == (1, 2, 0)
    assert unrank_permutation(5, 3) == (2, 1, 0)
    assert [unrank_permutation(i, 5) for i in range(120)] == \
        list(itertools.permutations(range(5)))
    every = list(itertools.permutations(range(8)))
    for r in (1, 777, 40319):
        assert unrank_permutation(r, 8) == every[r]
    with pytest.raises(ValueError, match='outside'):
        unrank_permutation(6, 3)


def test_jigsaw_draws_the_authors_indices():
    jig = MultimodalJigsaw(dict(rgb=8, audio=4), num_splits=4,
                           num_permutations=128, hidden_channels=512, seed=0,
                           loss_weight=1.0)
    random.seed(0)  # MOOSA: random.seed(args.seed); random.sample(...)
    indices = random.sample(range(math.factorial(8)), 128)
    assert jig.permutations.tolist() == \
        [list(unrank_permutation(i, 8)) for i in indices]
    assert len({tuple(p) for p in jig.permutations.tolist()}) == 128


def test_jigsaw_rows_are_the_permuted_parts():
    torch.manual_seed(0)
    dims = dict(rgb=6, audio=4)
    jig = MultimodalJigsaw(dims, num_splits=2, num_permutations=24,
                           hidden_channels=5, seed=0,
                           loss_weight=1.0)  # all 4! permutations
    feats = dict(rgb=torch.randn(3, 6), audio=torch.randn(3, 4))
    rows, labels = jig.shuffle(feats)
    assert rows.shape == (24 * 3, 10)
    parts = torch.split(feats['rgb'], 3, 1) + torch.split(feats['audio'], 2,
                                                          1)
    for p, perm in enumerate(jig.permutations.tolist()):
        block = rows[p * 3:(p + 1) * 3]
        torch.testing.assert_close(block,
                                   torch.cat([parts[j] for j in perm], 1))
        assert labels[p * 3:(p + 1) * 3].tolist() == [p] * 3
    identity = jig.permutations.tolist().index([0, 1, 2, 3])
    torch.testing.assert_close(rows[identity * 3:(identity + 1) * 3],
                               torch.cat([feats['rgb'], feats['audio']], 1))


def test_jigsaw_loss_and_gradient_reach_the_features():
    torch.manual_seed(0)
    jig = MultimodalJigsaw(dict(rgb=4, flow=4), num_splits=2,
                           num_permutations=6, hidden_channels=5, seed=0,
                           loss_weight=2.0)
    feats = dict(rgb=torch.randn(3, 4, requires_grad=True),
                 flow=torch.randn(3, 4, requires_grad=True))
    loss = jig(feats)
    rows, labels = jig.shuffle(feats)
    ref = 2.0 * F.cross_entropy(jig.classifier(rows), labels)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    loss.backward()
    assert feats['rgb'].grad.abs().sum() > 0
    assert feats['flow'].grad.abs().sum() > 0


def test_jigsaw_three_modalities_never_enumerates():
    start = time.perf_counter()
    jig = MultimodalJigsaw(dict(rgb=8, flow=8, audio=8), num_splits=4,
                           num_permutations=128, hidden_channels=8, seed=0,
                           loss_weight=1.0)  # 12! candidates
    assert time.perf_counter() - start < 5
    perms = jig.permutations.tolist()
    assert all(sorted(p) == list(range(12)) for p in perms)
    assert len({tuple(p) for p in perms}) == 128


JIGSAW = dict(num_permutations=128, hidden_channels=8, seed=0,
              loss_weight=1.0)


def test_jigsaw_bad_configuration():
    with pytest.raises(ValueError, match='not divisible'):
        MultimodalJigsaw(dict(rgb=6, audio=4), num_splits=4, **JIGSAW)
    with pytest.raises(ValueError, match='num_permutations=128'):
        MultimodalJigsaw(dict(rgb=4, audio=4), num_splits=2,
                         **JIGSAW)  # 4! = 24
    jig = MultimodalJigsaw(dict(rgb=4, audio=4), num_splits=2,
                           **dict(JIGSAW, num_permutations=4))
    with pytest.raises(ValueError, match='in this order'):
        jig.shuffle(dict(audio=torch.ones(1, 4), rgb=torch.ones(1, 4)))


# -- SMA ------------------------------------------------------------------------------
class _Scalar(nn.Module):

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.bn = nn.BatchNorm1d(1)


def _student_at(model, t):
    with torch.no_grad():
        model.w.fill_(t)
        model.bn.running_mean.fill_(10 * t)


def test_sma_copies_until_t0_then_uniform_mean():
    student, t0 = _Scalar(), 3
    sma = MODELS.build(dict(type='SimpleMovingAverage', start_step=t0),
                       default_args=dict(model=student))
    assert isinstance(sma, SimpleMovingAverage)
    for t in range(1, 9):
        _student_at(student, t)
        sma.update_parameters(student)
        expected = float(t) if t <= t0 else sum(range(t0, t + 1)) / (t - t0 + 1)
        assert sma.module.w.item() == pytest.approx(expected)
        # buffers are averaged too (CMRF averages the whole state dict)
        assert sma.module.bn.running_mean.item() == pytest.approx(10 *
                                                                  expected)
        if t == t0:  # what the distillation of step t0 + 1 reads
            assert sma.module.w.item() == t0


def test_sma_resumes_exactly():
    student = _Scalar()
    uninterrupted = SimpleMovingAverage(student, start_step=2)
    for t in range(1, 8):
        _student_at(student, t)
        uninterrupted.update_parameters(student)
    first = SimpleMovingAverage(student, start_step=2)
    for t in range(1, 5):
        _student_at(student, t)
        first.update_parameters(student)
    resumed = SimpleMovingAverage(_Scalar(), start_step=2)
    resumed.load_state_dict(copy.deepcopy(first.state_dict()))
    for t in range(5, 8):
        _student_at(student, t)
        resumed.update_parameters(student)
    assert resumed.module.w.item() == pytest.approx(
        uninterrupted.module.w.item())
    assert uninterrupted.module.w.item() == pytest.approx(sum(range(2, 8)) /
                                                          6)


def test_sma_start_step_must_be_positive():
    with pytest.raises(ValueError, match='start_step'):
        SimpleMovingAverage(_Scalar(), start_step=0)
