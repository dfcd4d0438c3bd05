"""RNA-Net (Planamente et al., WACV 2022): relative norm alignment."""
from typing import Dict

import torch
from mmaction.registry import MODELS

from mbcd_mmaction.structures import ForwardContext
from .simmmdg_family import SimMMDGFamily


@MODELS.register_module()
class RNA(SimMMDGFamily):
    """``L = CE(fused) + alpha * mean_pairs (n_k / n_l - 1)^2``.

    ``n_k`` is the batch mean of the per-sample norms of modality ``k``'s
    pooled feature (after the feature dropout), pairs oriented v/f, v/a,
    f/a (:class:`RelativeNormLoss`). No uni-modal CE: the linear uni-modal
    heads stay as initialised (frozen), as in the only implementation
    (MMDG-Bench's; there is no official code, docs/methods.md).

    Args:
        relative_norm (dict): Loss cfg (:class:`RelativeNormLoss`).
        **kwargs: :class:`SimMMDGFamily`'s arguments.
    """

    def __init__(self, relative_norm: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.relative_norm = MODELS.build(relative_norm)

    def method_losses(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        losses = super().method_losses(ctx)
        losses['loss_rna'] = self.relative_norm(ctx.pooled)
        return losses
