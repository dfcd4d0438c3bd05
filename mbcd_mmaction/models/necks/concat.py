"""Plain concatenation fusion (ERM and the SimMMDG family)."""
from typing import Mapping

import torch
import torch.nn as nn
from mmaction.registry import MODELS


@MODELS.register_module()
class ConcatFusion(nn.Module):
    """Concatenates the modality features in their order."""

    def forward(self, feats: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """(N, C_k) per modality -> (N, sum_k C_k)."""
        return torch.cat(list(feats.values()), dim=1)
