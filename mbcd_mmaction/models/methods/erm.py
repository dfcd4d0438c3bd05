"""ERM: the SimMMDG multi-modal baseline (MBCD paper, Table 1)."""
from typing import Dict

import torch
from mmaction.registry import MODELS

from mbcd_mmaction.structures import ForwardContext
from ..recognizers.multimodal_recognizer import MultiModalRecognizer


@MODELS.register_module()
class ERM(MultiModalRecognizer):
    """Empirical risk minimisation: fused CE on the concatenated features
    plus each modality's own CE (``uni_loss_weight``).

    ``L = CE(fused) + w * sum_k CE_k``. Every other method extends this
    class and overrides named steps of :class:`MultiModalRecognizer`.
    """

    def method_losses(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        return dict(fused_loss_cls=self.loss_cls(ctx.fused_logits,
                                                 ctx.labels))
