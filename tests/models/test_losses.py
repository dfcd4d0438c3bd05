import copy
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mbcd_mmaction.models.losses import (CollaborativeDistillationLoss,
                                         GradientConsistencyLoss)


def _kl(p, q):
    return sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))


def _softmax(row):
    e = [math.exp(v) for v in row]
    return [x / sum(e) for x in e]


def test_distillation_equals_hand_computed_kl():
    teacher = torch.tensor([[1.0, 0.0, -1.0], [0.0, 2.0, 0.0]])
    fused = torch.tensor([[0.0, 0.5, 0.0], [1.0, 1.0, 1.0]])
    uni = dict(a=torch.tensor([[2.0, 2.0, 0.0], [0.0, 0.0, 3.0]]))
    loss = CollaborativeDistillationLoss(temperature=1.0, loss_weight=0.5)(teacher, fused, uni)
    expected = 0.0
    for student in (fused, uni['a']):
        expected += sum(_kl(_softmax(t), _softmax(s)) for t, s in zip(
            teacher.tolist(), student.tolist())) / 2
    assert loss.item() == pytest.approx(0.5 * expected, rel=1e-5)


def test_distillation_sends_no_gradient_to_the_teacher():
    teacher = torch.randn(3, 4, requires_grad=True)
    fused = torch.randn(3, 4, requires_grad=True)
    CollaborativeDistillationLoss(temperature=1.0, loss_weight=1.0)(teacher, fused, {}).backward()
    assert teacher.grad is None and fused.grad is not None


def test_distillation_zero_when_student_equals_teacher():
    t = torch.randn(5, 4)
    assert CollaborativeDistillationLoss(temperature=1.0, loss_weight=1.0)(t, t.clone(), {'a': t}).item() \
        == pytest.approx(0.0, abs=1e-6)


class _Top(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 3)
        self.bn = nn.BatchNorm1d(3)

    def forward(self, x):
        return self.bn(self.fc(x))


def test_lookahead_gradient_equals_first_order_formula():
    torch.manual_seed(0)
    top = _Top().train()
    uni_head, fused_head = nn.Linear(3, 4), nn.Linear(3, 4)
    x, y = torch.randn(6, 3), torch.randint(0, 4, (6,))
    alpha = 0.5  # large, so a wrong formula cannot hide below tolerance
    reference = copy.deepcopy(top)
    stats_before = top.bn.running_mean.clone()

    gcc = GradientConsistencyLoss(alpha=alpha)
    uni_loss = F.cross_entropy(uni_head(top(x)), y)
    layers = gcc.lookahead_layers(uni_loss, {'top': top})
    fused_loss = gcc(fused_head(layers['top'](x)), y)
    grads = torch.autograd.grad(fused_loss, list(top.parameters()))

    # By hand: theta' = theta - alpha * grad CE_k(theta); the gradient that
    # reaches theta is grad CE_fused evaluated at theta' (identity Jacobian).
    ref_uni = F.cross_entropy(uni_head(reference(x)), y)
    g = torch.autograd.grad(ref_uni, list(reference.parameters()))
    with torch.no_grad():
        for p, gi in zip(reference.parameters(), g):
            p -= alpha * gi
    ref_fused = F.cross_entropy(fused_head(reference(x)), y)
    expected = torch.autograd.grad(ref_fused, list(reference.parameters()))
    assert fused_loss.item() == pytest.approx(ref_fused.item(), rel=1e-6)
    for a, b in zip(grads, expected):
        torch.testing.assert_close(a, b)
    # ... and differs from the plain (no look-ahead) fused gradient
    plain = torch.autograd.grad(F.cross_entropy(fused_head(top(x)), y),
                                list(top.parameters()))
    assert not torch.allclose(plain[0], grads[0])
    # the look-ahead pass does not move real BN statistics: only the one
    # ordinary forward (the uni-modal pass) and the `plain` pass did
    momentum = top.bn.momentum
    batch_mean = top.fc(x).mean(0).detach()
    once = (1 - momentum) * stats_before + momentum * batch_mean
    twice = (1 - momentum) * once + momentum * batch_mean
    torch.testing.assert_close(top.bn.running_mean, twice)
