"""Hand-checkable cases of the baselines' losses."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

from mbcd_mmaction.models.losses import (EntropyMinimisationLoss,
                                         EntropyWeightedCELoss,
                                         MixupDistillationLoss,
                                         ModalityWeightedCELoss,
                                         RelativeNormLoss,
                                         SharedSpecificDistanceLoss,
                                         SupConLoss, mix_feature,
                                         modality_pairs, unit_l2_distance)

SCALE = 0.1 / 0.07  # SupCon's hidden T / T_b


# -- RNA-Net ------------------------------------------------------------------
def test_rna_zero_when_mean_norms_are_equal():
    feats = dict(rgb=torch.tensor([[3., 4.], [0., 5.]]),
                 audio=torch.tensor([[5., 0.], [0., 5.]]))
    assert RelativeNormLoss(loss_weight=1.0)(feats).item() == 0.0


def test_rna_orientation_is_rgb_over_audio():
    feats = dict(audio=torch.tensor([[1., 0.], [0., -1.]]),
                 rgb=torch.tensor([[2., 0.], [0., 2.]]))
    # (2/1 - 1)^2 = 1; the reversed ratio would give (1/2 - 1)^2 = 0.25
    assert RelativeNormLoss(loss_weight=1.0)(feats).item() == pytest.approx(1.0)
    assert RelativeNormLoss(loss_weight=0.5)(feats).item() == \
        pytest.approx(0.5)


def test_rna_three_modalities_mean_of_fixed_pairs():
    feats = dict(rgb=torch.tensor([[2., 0.], [0., 2.]]),
                 audio=torch.tensor([[0., 1.], [1., 0.]]),
                 # mean of norms 1; the norm of the mean would be 0
                 flow=torch.tensor([[1., 0.], [-1., 0.]]))
    assert modality_pairs(feats) == [('rgb', 'flow'), ('rgb', 'audio'),
                                     ('flow', 'audio')]
    assert RelativeNormLoss(loss_weight=1.0)(feats).item() == pytest.approx(2 / 3)


def test_rna_gradient_equals_hand_derivative():
    torch.manual_seed(0)
    v = torch.randn(3, 4, requires_grad=True)
    a = torch.randn(3, 5, requires_grad=True)
    RelativeNormLoss(loss_weight=1.0)(dict(rgb=v, audio=a)).backward()
    with torch.no_grad():
        n_v, n_a = v.norm(dim=1).mean(), a.norm(dim=1).mean()
        r = n_v / n_a
        # d/de_i of (r-1)^2 with n = mean_i ||e_i||: d n / d e_i = u_i / B
        grad_v = 2 * (r - 1) / n_a * F.normalize(v, dim=1) / 3
        grad_a = -2 * (r - 1) * n_v / n_a**2 * F.normalize(a, dim=1) / 3
    torch.testing.assert_close(v.grad, grad_v)
    torch.testing.assert_close(a.grad, grad_a)


def test_rna_needs_two_known_modalities():
    with pytest.raises(ValueError, match='at least two'):
        RelativeNormLoss(loss_weight=1.0)(dict(rgb=torch.ones(2, 3)))
    with pytest.raises(ValueError, match="'depth'"):
        RelativeNormLoss(loss_weight=1.0)(dict(rgb=torch.ones(2, 3), depth=torch.ones(2, 3)))


# -- SupCon -------------------------------------------------------------------
def _supcon_by_hand(z, labels, t=0.1, tb=0.07):
    """The SupCon formula (docs/methods.md), one anchor at a time."""
    b, m = z.shape[:2]
    anchors = [(i, v) for v in range(m) for i in range(b)]
    total = 0
    for i, vi in anchors:
        others = [(j, vj) for j, vj in anchors if (j, vj) != (i, vi)]
        s = {o: torch.dot(z[i, vi], z[o[0], o[1]]) / t for o in others}
        log_denominator = torch.log(sum(torch.exp(x) for x in s.values()))
        pos = [o for o in others if labels[o[0]] == labels[i]]
        total = total - sum(s[p] - log_denominator for p in pos) / len(pos)
    return t / tb * total / len(anchors)


def test_supcon_two_distinct_labels_orthonormal_views():
    e = torch.eye(2)
    z = torch.stack([e, e], dim=1)  # both views of sample i are e_i
    loss = SupConLoss(temperature=0.1, base_temperature=0.07, loss_weight=1.0)(z, torch.tensor([0, 1]))
    # float32 resolves log(e^10 + 2) - 10 to about 1e-6
    assert loss.item() == pytest.approx(SCALE * math.log1p(2 * math.exp(-10)),
                                        abs=2e-6)
    assert loss.item() == pytest.approx(1.30e-4, rel=1e-2)


def test_supcon_all_equal():
    z = F.normalize(torch.ones(2, 2, 3), dim=2)
    loss = SupConLoss(temperature=0.1, base_temperature=0.07, loss_weight=1.0)(z, torch.tensor([1, 1]))
    assert loss.item() == pytest.approx(SCALE * math.log(3), rel=1e-5)
    assert loss.item() == pytest.approx(1.569, abs=1e-3)


def test_supcon_value_and_gradient_equal_the_formula():
    torch.manual_seed(0)
    z = F.normalize(torch.randn(5, 3, 8, dtype=torch.float64), dim=2)
    z.requires_grad_()
    labels = torch.tensor([0, 1, 0, 2, 1])
    loss = MODELS.build(dict(type='SupConLoss', temperature=0.1,
                             base_temperature=0.07, loss_weight=3.0))(z, labels)
    ref = 3.0 * _supcon_by_hand(z, labels)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    g, = torch.autograd.grad(loss, z)
    g_ref, = torch.autograd.grad(ref, z)
    torch.testing.assert_close(g, g_ref, rtol=1e-4, atol=1e-6)


def test_supcon_rejects_one_view():
    with pytest.raises(ValueError, match='views>=2'):
        SupConLoss(temperature=0.1, base_temperature=0.07, loss_weight=1.0)(torch.ones(4, 1, 3), torch.arange(4))


# -- SimMMDG distance and translation distance ----------------------------------
def test_distance_loss_of_split_halves():
    e = torch.tensor([[1., 1., 0., 0.]]).repeat(3, 1)
    loss = SharedSpecificDistanceLoss(loss_weight=1.0)(dict(rgb=e, audio=e.clone()))
    assert loss.item() == pytest.approx(-1.0)
    weighted = SharedSpecificDistanceLoss(loss_weight=0.7)(dict(rgb=e))
    assert weighted.item() == pytest.approx(-0.7)
    with pytest.raises(ValueError, match='odd'):
        SharedSpecificDistanceLoss(loss_weight=1.0)(dict(rgb=torch.ones(2, 3)))


def test_unit_distance_parallel_orthogonal_antipodal_and_scale():
    x = torch.tensor([[1., 0.], [0., 2.]])
    assert unit_l2_distance(3 * x, x).item() == pytest.approx(0.0)
    assert unit_l2_distance(x, x.flip(1) * 5).item() == \
        pytest.approx(math.sqrt(2))
    assert unit_l2_distance(x, -0.1 * x).item() == pytest.approx(2.0)


# -- MOOSA ----------------------------------------------------------------------
def test_entropy_weights_uniform_for_identical_heads():
    torch.manual_seed(0)
    z = torch.randn(4, 5)
    labels = torch.tensor([0, 1, 2, 3])
    logits = dict(rgb=z, audio=z.clone(), fused=z.clone())
    loss = EntropyWeightedCELoss(temperature=1.0)
    torch.testing.assert_close(loss.weights(logits), torch.full((4, 3), 1 / 3))
    terms = loss(logits, labels)
    assert list(terms) == ['rgb', 'audio', 'fused']
    assert sum(terms.values()).item() == pytest.approx(
        F.cross_entropy(z, labels).item(), rel=1e-6)


def _entropy(row):
    p = [math.exp(x) / sum(math.exp(y) for y in row) for x in row]
    return -sum(q * math.log(q) for q in p), p


def test_entropy_weighting_is_per_sample_not_a_product_of_means():
    # Head A confident on sample 0 and uniform on sample 1; head B the
    # reverse-ish; labels make the confident head right.
    a = [[6., 0., 0.], [0., 0., 0.]]
    b = [[1., 0., 0.5], [0., 3., 0.]]
    labels = [0, 1]
    ours = sum(EntropyWeightedCELoss(temperature=0.5)(
        dict(a=torch.tensor(a), b=torch.tensor(b)),
        torch.tensor(labels)).values()).item()
    by_hand, w_all, ce_all = 0.0, [], []
    for i in range(2):
        (ha, pa), (hb, pb) = _entropy(a[i]), _entropy(b[i])
        wa = math.exp(-ha / 0.5) / (math.exp(-ha / 0.5) + math.exp(-hb / 0.5))
        ce = [-math.log(pa[labels[i]]), -math.log(pb[labels[i]])]
        by_hand += (wa * ce[0] + (1 - wa) * ce[1]) / 2
        w_all.append([wa, 1 - wa])
        ce_all.append(ce)
    port = sum((w_all[0][k] + w_all[1][k]) / 2 *
               (ce_all[0][k] + ce_all[1][k]) / 2 for k in range(2))
    assert ours == pytest.approx(by_hand, rel=1e-5)
    assert abs(ours - port) > 0.05


def _entropy_weighted_by_hand(heads, labels, tau):
    """Per-sample, per-head loop in float64; weights not detached."""
    total = 0
    for i in range(labels.shape[0]):
        log_p = [F.log_softmax(h[i], dim=0) for h in heads]
        neg_h = torch.stack([(lp.exp() * lp).sum() for lp in log_p]) / tau
        w = torch.exp(neg_h) / torch.exp(neg_h).sum()
        total = total + sum(w[k] * -log_p[k][labels[i]]
                            for k in range(len(heads)))
    return total / labels.shape[0]


def test_entropy_weighted_gradient_flows_through_the_weights():
    torch.manual_seed(1)
    heads = [torch.randn(3, 4, requires_grad=True) for _ in range(3)]
    labels = torch.tensor([0, 3, 1])
    loss_fn = EntropyWeightedCELoss(temperature=0.7)
    loss = sum(loss_fn(dict(zip('vaf', heads)), labels).values())
    grads = torch.autograd.grad(loss, heads)
    ref_heads = [h.detach().double().requires_grad_() for h in heads]
    ref = _entropy_weighted_by_hand(ref_heads, labels, 0.7)
    ref_grads = torch.autograd.grad(ref, ref_heads)
    assert loss.item() == pytest.approx(ref.item(), rel=1e-5)
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r.float(), rtol=1e-4, atol=1e-6)
    # With detached weights the gradient would differ.
    w = loss_fn.weights(dict(zip('vaf', heads))).detach()
    detached = sum((w[:, k] * F.cross_entropy(h, labels, reduction='none')
                    ).mean() for k, h in enumerate(heads))
    g_detached = torch.autograd.grad(detached, heads)
    assert not torch.allclose(grads[0], g_detached[0], atol=1e-4)


def test_entropy_minimisation_of_uniform_logits_is_log_c():
    c = 6
    logits = dict(rgb=torch.zeros(3, c), flow=torch.zeros(3, c),
                  fused=torch.zeros(3, c))
    per_head = -math.log(1 / c + 1e-5)
    assert per_head == pytest.approx(math.log(c), rel=1e-3)
    loss = EntropyMinimisationLoss(loss_weight=0.001)(logits)
    assert loss.item() == pytest.approx(0.001 * per_head, rel=1e-6)


# -- CMRF -----------------------------------------------------------------------
def test_uni_ce_audio_weight_half():
    # CE = log(1 + (e - 1)) = 1 for label 0
    logits = torch.tensor([[0., math.log(math.e - 1)]])
    labels = torch.tensor([0])
    terms = ModalityWeightedCELoss(loss_weight=2.0, modality_weights=dict(audio=0.5))(
        dict(rgb=logits, audio=logits.clone()), labels)
    assert terms['rgb'].item() == pytest.approx(2.0)
    assert sum(terms.values()).item() == pytest.approx(3.0)


def test_mix_feature_of_equal_inputs_returns_them():
    torch.manual_seed(0)
    x = F.normalize(torch.randn(7, 5), dim=1)
    t_k, t_l, _, _ = mix_feature(x, x.clone())
    torch.testing.assert_close(t_k, x)
    torch.testing.assert_close(t_l, x)


def test_mix_feature_lambdas_and_formula():
    torch.manual_seed(0)
    g_k, g_l = torch.randn(10000, 2), torch.randn(10000, 2)
    t_k, t_l, lam1, lam2 = mix_feature(g_k, g_l, alpha=0.1)
    assert bool((lam1 > 0.5).all() and (lam1 <= 1).all())
    assert bool((lam2 < 0.5).all() and (lam2 >= 0).all())
    # U-shaped Beta(0.1, 0.1): most mass at the ends
    assert (lam1 > 0.9).float().mean() > 0.8
    assert (lam2 < 0.1).float().mean() > 0.8
    torch.testing.assert_close(t_k, lam1[:, None] * g_k +
                               (1 - lam1[:, None]) * g_l)
    torch.testing.assert_close(t_l, lam2[:, None] * g_k +
                               (1 - lam2[:, None]) * g_l)


def test_mixup_distillation_zero_antipodal_and_audio_half():
    torch.manual_seed(0)
    x = F.normalize(torch.randn(4, 3), dim=1)
    loss = MixupDistillationLoss(alpha=0.1, modality_weights=dict(audio=0.5), loss_weight=1.0)
    # teacher projections equal the student's and each other: mix = x
    assert loss(dict(rgb=x, audio=x), dict(rgb=x, audio=x)).item() == \
        pytest.approx(0.0, abs=1e-6)
    # both targets -x whatever lambda is; every distance 2; audio x 0.5
    student = dict(rgb=x.clone().requires_grad_(),
                   audio=x.clone().requires_grad_())
    teacher = dict(rgb=(-x).requires_grad_(), audio=(-x).requires_grad_())
    value = MixupDistillationLoss(alpha=0.1, modality_weights=dict(audio=0.5), loss_weight=3.0)(student, teacher)
    assert value.item() == pytest.approx(3.0 * (2 + 0.5 * 2), rel=1e-5)
    value.backward()
    assert teacher['rgb'].grad is None and teacher['audio'].grad is None
    assert student['audio'].grad is not None


def test_mixup_distillation_three_modalities_two_targets_each():
    x = F.normalize(torch.randn(4, 3), dim=1)
    student = dict(rgb=x, flow=x, audio=x)
    teacher = dict(rgb=-x, flow=-x, audio=-x)
    # (rgb,flow), (rgb,audio), (flow,audio): rgb 2+2, flow 2+2, audio .5*(2+2)
    assert MixupDistillationLoss(alpha=0.1, modality_weights=dict(audio=0.5), loss_weight=1.0)(student, teacher).item() == \
        pytest.approx(10.0, rel=1e-5)
    with pytest.raises(ValueError, match='student modalities'):
        MixupDistillationLoss(alpha=0.1, modality_weights=dict(audio=0.5), loss_weight=1.0)(dict(rgb=x, flow=x), dict(rgb=x, audio=x))
