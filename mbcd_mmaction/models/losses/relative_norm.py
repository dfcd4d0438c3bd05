"""RNA-Net's relative norm alignment loss (Planamente et al., WACV 2022)."""
from typing import Mapping, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS

from .functional import MODALITY_ORDER, modality_pairs


@MODELS.register_module()
class RelativeNormLoss(nn.Module):
    """``mean_{(k,l)} (n_k / n_l - 1)^2`` with ``n_k = mean_i ||e_k,i||_2``.

    ``n_k`` is the mean of the per-sample L2 norms (not the norm of the
    mean), taken on the pooled features the fused head sees. The ratio is
    not symmetric, so the orientation is fixed by ``order``: pairs
    ``rgb/flow``, ``rgb/audio``, ``flow/audio`` (v/f, v/a, f/a, as the
    MMDG-Bench implementation, the only one that exists; see
    docs/methods.md). Two modalities give their one pair, three the mean of the
    three pairs.

    Args:
        loss_weight (float): ``alpha_RNA`` (1.0 for RNA-Net).
        order (Sequence[str]): Orientation of the pairs. Defaults to
            ``('rgb', 'flow', 'audio')``.
    """

    def __init__(self, loss_weight: float,
                 order: Sequence[str] = MODALITY_ORDER) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.order = tuple(order)

    def forward(self, feats: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Args: feats: ``{modality: (N, C_k)}``. Returns: scalar loss."""
        pairs = modality_pairs(feats, self.order)
        norms = {m: f.float().norm(dim=1).mean() for m, f in feats.items()}
        loss = sum((norms[k] / norms[l] - 1)**2 for k, l in pairs)
        return self.loss_weight * loss / len(pairs)
