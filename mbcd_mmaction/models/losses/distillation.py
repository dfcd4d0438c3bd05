"""Collaborative distillation from the EMA teacher (MBCD, Eq. 8)."""
from typing import List, Mapping, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS


@MODELS.register_module()
class CollaborativeDistillationLoss(nn.Module):
    """``KL(p_T || p_fused) + sum_k KL(p_T || p_k)``.

    ``p_T`` is the EMA teacher's fused prediction, ``p_fused`` the student's
    fused prediction and ``p_k`` each student uni-modal prediction; every KL
    is averaged over the batch. With a temperature ``T`` the probabilities
    are ``softmax(logits / T)`` and the sum is scaled by ``T**2`` (Hinton et
    al.); the paper uses ``T = 1``.

    Args:
        temperature (float): Softmax temperature (the paper: 1).
        loss_weight (float): lambda of Eq. 9 (the paper: 1).
    """

    def __init__(self, temperature: float, loss_weight: float):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def kl(self, teacher_logits: torch.Tensor,
           student_logits: torch.Tensor) -> torch.Tensor:
        """``KL(softmax(t/T) || softmax(s/T))``, batch mean."""
        t = self.temperature
        return F.kl_div(
            F.log_softmax(student_logits.float() / t, dim=1),
            F.log_softmax(teacher_logits.detach().float() / t, dim=1),
            log_target=True, reduction='batchmean')

    def uni_terms(self, teacher_logits: torch.Tensor,
                  uni_logits: Mapping[str, torch.Tensor]
                  ) -> List[torch.Tensor]:
        """``KL(p_T || p_k)`` per modality, unweighted, in order."""
        return [self.kl(teacher_logits, logits)
                for logits in uni_logits.values()]

    def weighted(self, terms: Sequence[torch.Tensor]) -> torch.Tensor:
        """``loss_weight * T**2 * sum(terms)``."""
        return self.loss_weight * self.temperature**2 * sum(terms)

    def forward(self, teacher_logits: torch.Tensor,
                fused_logits: torch.Tensor,
                uni_logits: Mapping[str, torch.Tensor],
                uni_terms: Optional[Sequence[torch.Tensor]] = None
                ) -> torch.Tensor:
        """The weighted sum; ``uni_terms``: :meth:`uni_terms` of these
        ``uni_logits`` already computed (then ``uni_logits`` is unused)."""
        total = self.kl(teacher_logits, fused_logits)
        if uni_terms is None:
            uni_terms = self.uni_terms(teacher_logits, uni_logits)
        for term in uni_terms:
            total = total + term
        return self.loss_weight * self.temperature**2 * total
