"""Collaborative distillation from the EMA teacher (MBCD, Eq. 8)."""
from typing import Mapping

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
        temperature (float): Softmax temperature. Defaults to 1.0.
        loss_weight (float): lambda of Eq. 9. Defaults to 1.0.
    """

    def __init__(self, temperature: float = 1.0, loss_weight: float = 1.0):
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

    def forward(self, teacher_logits: torch.Tensor,
                fused_logits: torch.Tensor,
                uni_logits: Mapping[str, torch.Tensor]) -> torch.Tensor:
        total = self.kl(teacher_logits, fused_logits)
        for logits in uni_logits.values():
            total = total + self.kl(teacher_logits, logits)
        return self.loss_weight * self.temperature**2 * total
