"""The architecture the SimMMDG family of baselines shares (RNA-Net,
SimMMDG, MOOSA, CMRF; docs/methods.md)."""
from typing import Dict, Mapping, Optional

import torch

from mbcd_mmaction.structures import ForwardContext
from .erm import ERM


class SimMMDGFamily(ERM):
    """ERM with the authors' architecture choices, each a config switch:
    no LayerNorm on the features, linear uni-modal heads, and features
    taken after a dropout of 0.5 for video and flow (what the authors'
    modified mmaction heads return). Not registered: the four baselines
    extend it.

    Deliberate difference from the originals: the frozen trunk (stem to
    layer3) stays frozen with BatchNorm in eval mode, as for every method
    here; the authors' scripts put the video and flow trunks in train mode,
    so their frozen BN layers used batch statistics and updated their
    running averages.

    Args:
        feature_norm (bool): False in the family (no LayerNorm).
        uni_head (dict): ``LinearClsHead`` in the family.
        feature_dropout (dict, optional): ``{'rgb': 0.5, 'flow': 0.5}`` in
            the family: the authors take the video and flow features after
            the mmaction head's dropout; audio has none.
        uni_loss_weight (float, optional): The plain uni-modal CE of ERM.
            Defaults to None: none of the four trains its uni-modal heads
            with it (a gradient strategy such as GMP sets it to add its own
            uni-modal CE).
        uni_cls_to_strategy (bool): For a method with uni-modal
            classification terms of its own (MOOSA, CMRF): hand them to the
            gradient strategy (GMP modulates them as its ``g_c``) instead of
            passing them unmodulated next to the strategy's own uni-modal
            CE. Needs ``uni_loss_weight=None`` (the terms carry the
            method's weights).
        **kwargs: :class:`ERM`'s arguments.
    """

    #: Whether the method's own losses train the uni-modal heads. RNA-Net
    #: and SimMMDG optimise them but give them no loss, so they never
    #: change: they are frozen then (the same, and it keeps DDP's rule that
    #: every trainable parameter gets a gradient), unless a uni-modal CE
    #: (``uni_loss_weight``, e.g. GMP's) trains them.
    trains_uni_heads = False

    def __init__(self,
                 feature_norm: bool,
                 uni_head: dict,
                 feature_dropout: Optional[Mapping[str, float]],
                 uni_cls_to_strategy: bool,
                 uni_loss_weight: Optional[float] = None,
                 **kwargs) -> None:
        super().__init__(feature_norm=feature_norm,
                         uni_head=uni_head, feature_dropout=feature_dropout,
                         uni_loss_weight=uni_loss_weight, **kwargs)
        name = type(self).__name__
        if uni_cls_to_strategy and not self.trains_uni_heads:
            raise ValueError(f'{name} has no uni-modal classification terms '
                             'of its own; uni_cls_to_strategy must be False')
        if uni_cls_to_strategy and uni_loss_weight is not None:
            raise ValueError(
                f'{name}: uni_cls_to_strategy=True hands the method\'s own '
                'weighted uni-modal terms to the strategy in place of the '
                f'plain CE; set uni_loss_weight=None (got {uni_loss_weight})')
        self.uni_cls_to_strategy = uni_cls_to_strategy
        if not self.trains_uni_heads and self.uni_loss_weight is None:
            self.cls_heads.requires_grad_(False)

    def own_uni_cls(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        """The method's own uni-modal classification terms, weighted, per
        modality (methods with ``trains_uni_heads``)."""
        raise NotImplementedError(
            f'{type(self).__name__} has no uni-modal terms of its own')

    def uni_cls_losses(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        if self.uni_cls_to_strategy:
            return self.own_uni_cls(ctx)
        return super().uni_cls_losses(ctx)

    def fused_cls_loss(self, ctx: ForwardContext) -> torch.Tensor:
        """The fused head's classification loss (plain CE)."""
        return self.loss_cls(ctx.fused_logits, ctx.labels)

    def method_losses(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        losses = dict(fused_loss_cls=self.fused_cls_loss(ctx))
        if self.trains_uni_heads and not self.uni_cls_to_strategy:
            # Not '{m}_loss_cls': that key holds a strategy's uni-modal CE.
            losses.update({f'{m}_loss_cls_own': v
                           for m, v in self.own_uni_cls(ctx).items()})
        return losses
