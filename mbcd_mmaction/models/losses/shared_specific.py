"""SimMMDG's modality-shared / modality-specific feature split."""
from typing import Mapping, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS


def split_shared_specific(feat: torch.Tensor
                          ) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(feat[:, :C/2], feat[:, C/2:])``: the shared and specific halves.

    SimMMDG splits along the channel index (for SlowFast this does not
    follow the slow/fast boundary); the fused head still sees both halves.

    Raises:
        ValueError: an odd feature size (the halves must have equal size).
    """
    dim = feat.shape[1]
    if dim % 2:
        raise ValueError(f'split_shared_specific: feature size {dim} is odd;'
                         ' the shared and specific halves need equal sizes')
    return feat[:, :dim // 2], feat[:, dim // 2:]


@MODELS.register_module()
class SharedSpecificDistanceLoss(nn.Module):
    """``-(1/M) sum_k mean((shared_k - specific_k)^2)`` (SimMMDG).

    Pushes each modality's specific half away from its shared half. It is
    unbounded below, as in the original (its weight is small: 0.7).

    Args:
        loss_weight (float): The methods use 0.7
            (``explore_loss_coeff``).
    """

    def __init__(self, loss_weight: float) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, feats: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Args: feats: ``{modality: (N, C_k)}`` full features."""
        if not feats:
            raise ValueError('SharedSpecificDistanceLoss: no features')
        total = sum(F.mse_loss(*split_shared_specific(f.float()))
                    for f in feats.values())
        return -self.loss_weight * total / len(feats)
