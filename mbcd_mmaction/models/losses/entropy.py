"""MOOSA's entropy-weighted classification and entropy minimisation
(Dong, Chatzi, Fink, ECCV 2024)."""
from typing import Dict, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS


def _stack_heads(logits: Mapping[str, torch.Tensor]) -> torch.Tensor:
    if len(logits) < 2:
        raise ValueError('entropy weighting needs at least two heads, got '
                         f'{list(logits)}')
    shapes = {tuple(v.shape) for v in logits.values()}
    if len(shapes) != 1:
        raise ValueError(f'heads give logits of different shapes: '
                         f'{ {k: tuple(v.shape) for k, v in logits.items()} }')
    return torch.stack([v.float() for v in logits.values()], dim=1)


@MODELS.register_module()
class EntropyWeightedCELoss(nn.Module):
    """Per-sample entropy-weighted cross-entropy over several heads.

    For sample ``i`` and head ``k`` (the uni-modal heads and the fused
    head), ``H_ik`` is the entropy of ``softmax(logits_ik)`` (natural log)
    and ``w_i = softmax_k(-H_ik / tau)``; the loss is
    ``mean_i sum_k w_ik CE_ik``. Confident heads get more weight, per
    sample. The weights are not detached: their gradient is part of the
    loss, as in MOOSA's code. (The MMDG-Bench port multiplies batch means,
    ``sum_k mean_i(w_ik) mean_i(CE_ik)``; that is not this loss.)

    The entropy is computed exactly from ``log_softmax``; the authors'
    ``Categorical(probs=...)`` clamps probabilities at float epsilon, which
    differs only for probabilities below ~1e-7.

    Args:
        temperature (float): ``tau`` (``entropy_weight_temp``, 1.0 in
            MOOSA).
        loss_weight (float): Defaults to 1.0.
    """

    def __init__(self, temperature: float,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def weights(self, logits: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(N, K) weights ``w_ik``, heads in ``logits``' order."""
        log_p = F.log_softmax(_stack_heads(logits), dim=2)
        entropy = -(log_p.exp() * log_p).sum(2)
        return F.softmax(-entropy / self.temperature, dim=1)

    def forward(self, logits: Mapping[str, torch.Tensor],
                labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Args:
            logits: ``{head: (N, classes)}``, e.g. each modality and
                ``'fused'``.
            labels: (N,) class indices.

        Returns:
            dict: ``{head: loss_weight * mean_i w_ik CE_ik}``; their sum is
            the loss. Per head, so a gradient strategy can take the
            uni-modal terms.
        """
        w = self.weights(logits)
        return {k: self.loss_weight * (
            w[:, j] * F.cross_entropy(v.float(), labels, reduction='none')
        ).mean() for j, (k, v) in enumerate(logits.items())}


@MODELS.register_module()
class EntropyMinimisationLoss(nn.Module):
    """``loss_weight / K * sum_k mean_i(-sum_c p_ikc log(p_ikc + 1e-5))``.

    MOOSA's entropy minimisation over the ``K`` heads (uni-modal and fused);
    the ``1e-5`` inside the log is the authors'.

    Args:
        loss_weight (float): ``entropy_min_weight`` (MOOSA
            uses 0.001).
        eps (float): Added inside the log. Defaults to 1e-5.
    """

    def __init__(self, loss_weight: float, eps: float = 1e-5) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self, logits: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Args: logits: ``{head: (N, classes)}``. Returns: scalar loss."""
        if not logits:
            raise ValueError('EntropyMinimisationLoss: no logits')
        total = 0
        for v in logits.values():
            p = F.softmax(v.float(), dim=1)
            total = total + (-p * torch.log(p + self.eps)).sum(1).mean()
        return self.loss_weight * total / len(logits)
