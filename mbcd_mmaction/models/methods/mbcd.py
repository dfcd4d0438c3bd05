"""MBCD (Eq. 9): ERM + adaptive modality dropout + gradient consistency
look-ahead + EMA teacher + collaborative distillation."""
from typing import Dict, Optional

import torch
from mmaction.registry import MODELS

from ..necks import AdaptiveDropoutFusion
from mbcd_mmaction.structures import ForwardContext
from .ema import EMA


@MODELS.register_module()
class MBCD(EMA):
    """``CE_fused(theta') + w * sum_k CE_k(theta) + lambda * L_dis``.

    Overrides two steps of the recognizer:

    - :meth:`fuse`: per-batch drop probabilities from the uni-modal logits
      (Eq. 2-4, ``fusion``: :class:`AdaptiveDropoutFusion`), and, with
      ``gradient_consistency``, the fused logits computed with each
      modality's top stages at ``theta'_k = theta_k - alpha grad CE_k``
      (Eq. 5; the frozen trunk output is reused);
    - :meth:`method_losses`: the fused CE (at ``theta'``) and, with
      ``distillation``, ``KL`` from the EMA teacher's fused prediction to
      the student's fused and uni-modal predictions (Eq. 8).

    Every part can be switched off for the paper's Table 4/5 ablations
    (``fusion.mode='off'/'fixed'``, ``gradient_consistency=None``,
    ``distillation=None``).

    Args:
        fusion (dict): An :class:`AdaptiveDropoutFusion` cfg.
        gradient_consistency (dict, optional): Look-ahead loss cfg
            (:class:`GradientConsistencyLoss`); None switches it off.
        distillation (dict, optional): Distillation loss cfg
            (:class:`CollaborativeDistillationLoss`); None switches it
            off.
        **kwargs: :class:`EMA`'s arguments (the teacher).
    """

    def __init__(self, fusion: dict, gradient_consistency: Optional[dict],
                 distillation: Optional[dict], **kwargs) -> None:
        super().__init__(fusion=fusion, **kwargs)
        if not isinstance(self.fusion, AdaptiveDropoutFusion):
            raise TypeError(f'MBCD needs fusion=AdaptiveDropoutFusion (mode '
                            f"'off' switches the dropout off), got {fusion}")
        self.gradient_consistency = (MODELS.build(gradient_consistency)
                                     if gradient_consistency else None)
        self.distillation = MODELS.build(distillation) if distillation \
            else None
        if self.gradient_consistency is not None and \
                self.uni_loss_weight is None:
            raise ValueError(
                'MBCD: gradient_consistency looks ahead along the uni-modal '
                'CE gradients; set model.uni_loss_weight (None gives no '
                'uni-modal CE)')

    @property
    def computes_uni_cls_grads(self) -> bool:
        """The look-ahead needs ``grad CE_k``: the uni-modal heads read
        detached leaves and that same gradient is injected into the final
        backward (two top-stage backward passes: this one and the
        look-ahead's)."""
        return self.gradient_consistency is not None

    def leaf_passthrough(self, ctx: ForwardContext
                         ) -> Optional[torch.Tensor]:
        """With the look-ahead, the uni-modal distillation terms (they read
        the uni-modal predictions at ``theta``; the fused one reads
        ``theta'``): their encoder gradient is computed with ``grad CE_k``
        in one backward through the top stages."""
        if self.gradient_consistency is None or self.distillation is None:
            return None
        terms = self.distillation.uni_terms(
            self.teacher_logits(ctx)['fused'], ctx.uni_logits)
        ctx.extras['uni_distill_terms'] = terms
        return self.distillation.weighted(terms)

    def fuse(self, ctx: ForwardContext) -> None:
        drop_probs = self.fusion.drop_probabilities(ctx.uni_logits)
        ctx.extras['drop_probs'] = drop_probs
        feats = ctx.feats
        if self.gradient_consistency is not None:
            tops = self.trainable_parts()['tops']
            lookahead = {m: self.gradient_consistency.lookahead_layers(
                ctx.uni_cls[m], tops[m], grads=ctx.uni_cls_grads(m))
                for m in self.modalities}
            # The look-ahead and a gradient strategy (before fuse) are
            # the only readers of the plain gradients in the forward (the
            # recognizer holds what it injects).
            ctx.release_uni_cls_grads()
            pooled = self.pooled_features(ctx.trunk, top_layers=lookahead)
            feats = {m: self.norms[m](f) for m, f in pooled.items()}
        ctx.fused_feat = self.fusion(feats, drop_probs)
        ctx.fused_logits = self.fused_head(ctx.fused_feat)

    def method_losses(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        losses = {}
        if self.gradient_consistency is not None:
            losses['fused_loss_cls'] = self.gradient_consistency(
                ctx.fused_logits, ctx.labels)
        else:
            losses['fused_loss_cls'] = self.loss_cls(ctx.fused_logits,
                                                     ctx.labels)
        if self.distillation is not None:
            losses['loss_distill'] = self.distillation(
                self.teacher_logits(ctx)['fused'], ctx.fused_logits,
                ctx.uni_logits,
                uni_terms=ctx.extras.get('uni_distill_terms'))
        # Logged, not summed: mmengine sums only keys containing 'loss'.
        for m, p in ctx.extras['drop_probs'].items():
            losses[f'{m}_drop_prob'] = p.detach()
        return losses
