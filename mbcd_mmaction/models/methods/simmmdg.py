"""SimMMDG (Dong et al., NeurIPS 2023)."""
from typing import Dict

import torch
from mmaction.registry import MODELS
from mmengine.model import ModuleDict

from ..losses import split_shared_specific
from mbcd_mmaction.structures import ForwardContext
from .simmmdg_family import SimMMDGFamily


@MODELS.register_module()
class SimMMDG(SimMMDGFamily):
    """Shared/specific feature split, supervised contrastive alignment of
    the shared halves, cross-modal translation.

    ``L = CE(fused) + 0.1 L_trans + 3.0 L_sup + 0.7 L_dist`` on the pooled
    features ``e_k`` (after the feature dropout; docs/methods.md):

    - ``L_sup``: :class:`SupConLoss` (T 0.1, times T / T_b = 0.1 / 0.07) on
      ``[P_k(shared_k)]``, one view per modality, with
      ``P_k = ProjectionHead`` (2048 hidden, 128 out, L2-normalised);
    - ``L_dist``: :class:`SharedSpecificDistanceLoss`;
    - ``L_trans``: :class:`CrossModalTranslation` on the full features.

    The fused head sees the full features. No uni-modal CE: the linear
    uni-modal heads stay as initialised (frozen), as in the authors' code.

    Args:
        projection (dict): Projection head cfg (``in_channels`` is filled
            in: half of each feature).
        translation (dict): Translation cfg (``feat_dims`` filled in).
        contrastive (dict): Contrastive loss cfg.
        distance (dict): Distance loss cfg.
        **kwargs: :class:`SimMMDGFamily`'s arguments.
    """

    def __init__(self, projection: dict, translation: dict,
                 contrastive: dict, distance: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.projections = ModuleDict({
            m: MODELS.build({**projection, 'in_channels': d // 2})
            for m, d in self.feat_dims.items()})
        self.translation = MODELS.build(
            translation, default_args=dict(feat_dims=self.feat_dims))
        self.contrastive = MODELS.build(contrastive)
        self.distance = MODELS.build(distance)

    def shared_projections(self, ctx: ForwardContext) -> torch.Tensor:
        """(N, M, D): the projected shared halves, one view per modality."""
        return torch.stack([
            self.projections[m](split_shared_specific(f)[0])
            for m, f in ctx.pooled.items()], dim=1)

    def method_losses(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        losses = super().method_losses(ctx)
        losses['loss_trans'] = self.translation(ctx.pooled)
        losses['loss_supcon'] = self.contrastive(
            self.shared_projections(ctx), ctx.labels)
        losses['loss_dist'] = self.distance(ctx.pooled)
        return losses
