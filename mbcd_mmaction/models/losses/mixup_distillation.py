"""CMRF's distillation toward the teacher's cross-modal mixup (Fan et al.,
NeurIPS 2024)."""
from typing import Mapping, Sequence, Tuple

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from .functional import MODALITY_ORDER, modality_pairs, unit_l2_distance


def _truncated_beta(n: int, alpha: float, above_half: bool,
                    device: torch.device) -> torch.Tensor:
    """``n`` draws of Beta(alpha, alpha), each redrawn until it lies above
    (or below) 0.5, as CMRF's rejection loop; float64 on ``device``."""
    beta = torch.distributions.Beta(
        torch.tensor(float(alpha), dtype=torch.float64, device=device),
        torch.tensor(float(alpha), dtype=torch.float64, device=device))
    out = torch.empty(n, dtype=torch.float64, device=device)
    todo = torch.ones(n, dtype=torch.bool, device=device)
    while bool(todo.any()):
        draw = beta.sample((n, ))
        accept = todo & ((draw > 0.5) if above_half else (draw < 0.5))
        out[accept] = draw[accept]
        todo &= ~accept
    return out


def mix_feature(g_k: torch.Tensor, g_l: torch.Tensor, alpha: float = 0.1
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                           torch.Tensor]:
    """CMRF's cross-modal mixup of two modalities' projections.

    Per sample, ``lam1 ~ Beta(alpha, alpha)`` redrawn until ``> 0.5`` and
    ``lam2`` until ``< 0.5``; then ``t_k = lam1 g_k + (1 - lam1) g_l`` (mostly
    ``k``'s own) and ``t_l = lam2 g_k + (1 - lam2) g_l`` (mostly ``l``'s).
    The lambdas are cast to the features' dtype, as the authors cast to
    float32; Beta(0.1, 0.1) then gives ``lam1 == 1`` (a target equal to the
    modality's own projection) in about 18 % of draws, which is expected.
    The mixes are not renormalised here; the distance does it.

    Args:
        g_k, g_l: (N, D) projections of modalities ``k`` and ``l``.
        alpha (float): Beta concentration. Defaults to 0.1.

    Returns:
        tuple: ``t_k``, ``t_l`` (N, D) and ``lam1``, ``lam2`` (N,).
    """
    if g_k.shape != g_l.shape:
        raise ValueError(f'mix_feature: shapes {tuple(g_k.shape)} and '
                         f'{tuple(g_l.shape)} differ')
    if alpha <= 0:
        raise ValueError(f'mix_feature: alpha must be > 0, got {alpha}')
    n = g_k.shape[0]
    lam1 = _truncated_beta(n, alpha, True, g_k.device).to(g_k.dtype)
    lam2 = _truncated_beta(n, alpha, False, g_k.device).to(g_k.dtype)
    t_k = lam1[:, None] * g_k + (1 - lam1[:, None]) * g_l
    t_l = lam2[:, None] * g_k + (1 - lam2[:, None]) * g_l
    return t_k, t_l, lam1, lam2


@MODELS.register_module()
class MixupDistillationLoss(nn.Module):
    """``sum_{(k,l)} [c_k d(t_k, s_k) + c_l d(t_l, s_l)]`` (CMRF).

    For each modality pair (oriented by ``order``: (v,f), (v,a), (f,a))
    the teacher's projections are mixed by :func:`mix_feature`, and each
    student projection ``s_k`` is pulled toward its (detached) target with
    ``d(x, y) = mean_i ||u(x_i) - u(y_i)||_2``. With three modalities each
    modality is distilled toward two targets. Audio's weight ``c_a = 0.5``
    is hard-coded in the authors' script.

    Args:
        alpha (float): Beta concentration of the mixup (``--mix_alpha``,
            0.1 in CMRF).
        modality_weights (dict): ``c_k``; missing ones are 1 (CMRF:
            ``{'audio': 0.5}``).
        loss_weight (float): CMRF uses 3.0 (``--distill_coef``).
        order (Sequence[str]): Pair orientation.
    """

    def __init__(self, alpha: float, modality_weights: Mapping[str, float],
                 loss_weight: float,
                 order: Sequence[str] = MODALITY_ORDER) -> None:
        super().__init__()
        self.alpha = alpha
        self.modality_weights = dict(modality_weights)
        self.loss_weight = loss_weight
        self.order = tuple(order)

    def forward(self, student: Mapping[str, torch.Tensor],
                teacher: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Args:
            student: ``{modality: (N, D)}`` student projections.
            teacher: ``{modality: (N, D)}`` teacher projections (detached
                here).

        Returns:
            Scalar loss.
        """
        if set(student) != set(teacher):
            raise ValueError(f'MixupDistillationLoss: student modalities '
                             f'{sorted(student)} != teacher modalities '
                             f'{sorted(teacher)}')
        total = 0
        for k, l in modality_pairs(student, self.order):
            t_k, t_l, _, _ = mix_feature(teacher[k].detach(),
                                         teacher[l].detach(), self.alpha)
            total = total + \
                self.modality_weights.get(k, 1.0) * \
                unit_l2_distance(t_k, student[k]) + \
                self.modality_weights.get(l, 1.0) * \
                unit_l2_distance(t_l, student[l])
        return self.loss_weight * total
