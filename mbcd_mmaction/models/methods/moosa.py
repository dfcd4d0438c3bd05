"""MOOSA (Dong, Chatzi, Fink, ECCV 2024), closed-set multi-source."""
from typing import Dict

import torch
from mmaction.registry import MODELS

from mbcd_mmaction.structures import ForwardContext
from .simmmdg import SimMMDG


@MODELS.register_module()
class MOOSA(SimMMDG):
    """SimMMDG with masked cross-modal translation, a multimodal jigsaw
    task, entropy-weighted classification and entropy minimisation.

    ``L = L_cls + 1.0 L_jig + 0.001 L_ent + 0.1 L_mtrans + 3.0 L_sup +
    0.7 L_dist`` (docs/methods.md), where ``L_cls`` is
    :class:`EntropyWeightedCELoss` over the uni-modal heads and the fused
    head (per sample, weights not detached; it replaces the plain fused
    CE), ``L_ent`` :class:`EntropyMinimisationLoss` over the same heads,
    ``L_jig`` :class:`MultimodalJigsaw` on the full features (4 chunks per
    modality with two modalities, 2 with three: 8! or 6! candidate
    permutations, 128 drawn once), and ``L_mtrans`` SimMMDG's translation
    with each source feature masked elementwise (``mask_ratio`` 0.3).
    The closed-set variant: all classes, SimMMDG's loop and selection (the
    authors' recipe; their script is open-set).

    With a gradient strategy, the uni-modal terms ``w_ik CE_ik`` pass
    unmodulated next to the strategy's own CE by default;
    ``uni_cls_to_strategy=True`` makes them the terms the strategy
    modulates (their gradient through the entropy weights of the fused
    head still reaches the encoders unmodulated, through the fused path).

    Args:
        translation (dict): Masked translation cfg.
        jigsaw (dict): Jigsaw cfg (``feat_dims`` filled in);
            ``num_splits=None`` picks 4 for two modalities, 2 for three.
        entropy_weighting (dict): Entropy-weighted CE cfg.
        entropy_minimisation (dict): Entropy minimisation cfg.
        **kwargs: :class:`SimMMDG`'s arguments.
    """

    trains_uni_heads = True

    def __init__(self, translation: dict, jigsaw: dict,
                 entropy_weighting: dict, entropy_minimisation: dict,
                 **kwargs) -> None:
        super().__init__(translation=translation, **kwargs)
        jigsaw = dict(jigsaw)
        if jigsaw.get('num_splits', None) is None:
            jigsaw['num_splits'] = 4 if len(self.modalities) == 2 else 2
        self.jigsaw = MODELS.build(
            jigsaw, default_args=dict(feat_dims=self.feat_dims))
        self.entropy_weighting = MODELS.build(entropy_weighting)
        self.entropy_minimisation = MODELS.build(entropy_minimisation)

    def fuse(self, ctx: ForwardContext) -> None:
        # The entropy weights need the fused logits; with
        # uni_cls_to_strategy they are computed at step 4 already.
        if ctx.fused_logits is None:
            super().fuse(ctx)

    def head_logits(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        """Uni-modal heads then the fused head, as the weighting reads."""
        if ctx.fused_logits is None:
            self.fuse(ctx)
        return dict(ctx.uni_logits, fused=ctx.fused_logits)

    def _weighted_terms(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        if 'entropy_weighted' not in ctx.extras:
            ctx.extras['entropy_weighted'] = self.entropy_weighting(
                self.head_logits(ctx), ctx.labels)
        return ctx.extras['entropy_weighted']

    def own_uni_cls(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        terms = self._weighted_terms(ctx)
        return {m: terms[m] for m in self.modalities}

    def fused_cls_loss(self, ctx: ForwardContext) -> torch.Tensor:
        return self._weighted_terms(ctx)['fused']

    def method_losses(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        losses = super().method_losses(ctx)
        losses['loss_jigsaw'] = self.jigsaw(ctx.pooled)
        losses['loss_entmin'] = self.entropy_minimisation(
            self.head_logits(ctx))
        return losses
