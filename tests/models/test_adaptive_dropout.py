import math

import pytest
import torch

from mbcd_mmaction.models.necks import AdaptiveDropoutFusion


def _logits():
    # Two samples, three classes, three modalities.
    return dict(
        rgb=torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0]]),
        flow=torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]),
        audio=torch.tensor([[0.5, 0.0, 0.0], [0.0, 0.0, 0.2]]))


def _hand_probs():
    def maxsoft(row):
        e = [math.exp(v) for v in row]
        return max(e) / sum(e)
    s = {k: sum(maxsoft(r) for r in v.tolist()) for k, v in _logits().items()}
    probs = {}
    for k in s:
        r = sum(s[k] / s[j] for j in s if j != k) / (len(s) - 1)
        probs[k] = math.tanh(max(r - 1, 0))
    return probs


def test_adaptive_probabilities_match_hand_computation():
    probs = AdaptiveDropoutFusion('adaptive').drop_probabilities(_logits())
    expected = _hand_probs()
    assert expected['rgb'] > 0.2 and expected['flow'] == 0.0
    for k, v in expected.items():
        assert float(probs[k]) == pytest.approx(v, abs=1e-6)


def test_fixed_and_off_modes():
    fixed = AdaptiveDropoutFusion('fixed', 0.3).drop_probabilities(_logits())
    off = AdaptiveDropoutFusion('off').drop_probabilities(_logits())
    assert all(float(v) == pytest.approx(0.3) for v in fixed.values())
    assert all(float(v) == 0.0 for v in off.values())


def test_single_modality_is_never_dropped():
    probs = AdaptiveDropoutFusion('adaptive').drop_probabilities(
        dict(rgb=torch.tensor([[9.0, 0.0]])))
    assert float(probs['rgb']) == 0.0


def test_masks_are_per_sample_with_the_given_probability():
    torch.manual_seed(0)
    n = 20000
    feats = dict(a=torch.ones(n, 3), b=torch.ones(n, 2))
    probs = dict(a=torch.tensor(0.25), b=torch.tensor(0.0))
    out = AdaptiveDropoutFusion('adaptive')(feats, probs)
    assert out.shape == (n, 5)
    dropped_a = (out[:, :3] == 0).all(dim=1)
    # whole feature vector of a sample dropped or kept, never partially
    assert ((out[:, :3] == 0).any(dim=1) == dropped_a).all()
    assert dropped_a.float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert (out[:, 3:] == 1).all()  # kept features are not rescaled


def test_no_probs_means_plain_concatenation():
    feats = dict(a=torch.randn(4, 3), b=torch.randn(4, 2))
    out = AdaptiveDropoutFusion('fixed', 1.0)(feats)
    torch.testing.assert_close(out, torch.cat([feats['a'], feats['b']], 1))


def test_bad_mode():
    with pytest.raises(ValueError, match='mode'):
        AdaptiveDropoutFusion('sometimes')
