"""Adaptive modality dropout at fusion (MBCD, Eq. 2-4)."""
from typing import Dict, Mapping, Optional

import torch
import torch.distributed as dist
import torch.nn as nn
from mmaction.registry import MODELS


@MODELS.register_module()
class AdaptiveDropoutFusion(nn.Module):
    """Concatenates modality features, dropping dominant modalities.

    Per batch, modality k's confidence is ``s_k = sum_i max softmax(f_k(x_i))``
    from its own head (Eq. 2, detached); its relative speed
    ``r_k = mean_{j != k} s_k / s_j`` (Eq. 3); each sample's feature of k is
    zeroed with probability ``p_k = tanh(max(r_k - 1, 0))`` (Eq. 4). Masks
    are drawn per sample and applied only to the features entering the fused
    head during training (no rescaling, as the MMDG-Bench port does).

    Under distributed training ``s_k`` is summed over all ranks, so the drop
    probabilities are those of the global batch whatever the process count.

    Args:
        mode (str): ``'adaptive'`` (Eq. 4), ``'fixed'`` (every modality with
            probability ``fixed_prob``) or ``'off'`` (paper Table 5).
        fixed_prob (float, optional): Drop probability of ``'fixed'``
            (required there; Table 5 uses 0.5), unused otherwise.
    """

    MODES = ('adaptive', 'fixed', 'off')

    def __init__(self, mode: str, fixed_prob: Optional[float] = None):
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f'AdaptiveDropoutFusion mode must be one of '
                             f'{self.MODES}, got {mode!r}')
        if mode == 'fixed' and (fixed_prob is None
                                or not 0.0 <= fixed_prob <= 1.0):
            raise ValueError("AdaptiveDropoutFusion mode='fixed' needs "
                             f'fixed_prob in [0, 1], got {fixed_prob}')
        self.mode = mode
        self.fixed_prob = fixed_prob

    @staticmethod
    def confidence_scores(logits: Mapping[str, torch.Tensor]
                          ) -> Dict[str, torch.Tensor]:
        """Eq. 2 over the global batch: ``s_k`` per modality (detached)."""
        names = list(logits)
        s = torch.stack([
            logits[k].detach().float().softmax(dim=1).max(dim=1).values.sum()
            for k in names])
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(s)
        return dict(zip(names, s))

    def drop_probabilities(self, logits: Mapping[str, torch.Tensor]
                           ) -> Dict[str, torch.Tensor]:
        """Drop probability per modality from the uni-modal logits."""
        names = list(logits)
        device = next(iter(logits.values())).device
        if self.mode == 'off':
            return {k: torch.zeros((), device=device) for k in names}
        if self.mode == 'fixed':
            return {k: torch.full((), self.fixed_prob, device=device)
                    for k in names}
        if len(names) < 2:  # Eq. 3 needs another modality to compare with
            return {k: torch.zeros((), device=device) for k in names}
        s = self.confidence_scores(logits)
        probs = {}
        for k in names:
            r_k = torch.stack([s[k] / s[j] for j in names if j != k]).mean()
            probs[k] = torch.tanh(torch.clamp(r_k - 1, min=0))
        return probs

    def forward(self, feats: Mapping[str, torch.Tensor],
                drop_probs: Optional[Mapping[str, torch.Tensor]] = None
                ) -> torch.Tensor:
        """Concatenate ``feats`` (each (N, C_k)) in their order.

        Args:
            feats: Normalised features per modality.
            drop_probs: Per-modality drop probabilities; None means no
                dropout (evaluation, the teacher).

        Returns:
            Tensor: (N, sum_k C_k).
        """
        parts = []
        for k, f in feats.items():
            if drop_probs is not None:
                keep = torch.rand(f.shape[0], 1, device=f.device) >= \
                    drop_probs[k]
                f = f * keep.to(f.dtype)
            parts.append(f)
        return torch.cat(parts, dim=1)
