"""Uni-modal cross-entropies with per-modality weights (CMRF)."""
from typing import Dict, Mapping, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS


@MODELS.register_module()
class ModalityWeightedCELoss(nn.Module):
    """``loss_weight * c_k * CE(logits_k, y)`` per modality ``k``.

    CMRF trains the uni-modal heads with weight 2.0 (``mix_coef``) and halves
    audio's (``c_audio = 0.5``, hard-coded in the authors' script: the
    paper's "distinct weights for each modality").

    Args:
        loss_weight (float): CMRF uses 2.0.
        modality_weights (dict): ``c_k`` by modality; missing ones are 1
            (CMRF: ``{'audio': 0.5}``).
    """

    def __init__(self, loss_weight: float,
                 modality_weights: Mapping[str, float]) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.modality_weights = dict(modality_weights)

    def forward(self, logits: Mapping[str, torch.Tensor],
                labels: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Returns ``{modality: weighted CE}``; the loss is their sum."""
        return {m: self.loss_weight * self.modality_weights.get(m, 1.0) *
                F.cross_entropy(v.float(), labels)
                for m, v in logits.items()}
