"""What one training forward of a recognizer computed, for the losses."""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import torch

from mmaction.utils import SampleList

Grads = List[torch.Tensor]


def vector_jacobian(output: torch.Tensor, params: Sequence[torch.Tensor],
                    grad_output: torch.Tensor) -> Grads:
    """``grad_output``-weighted gradient of ``output`` w.r.t. ``params``
    (detached; zeros for parameters ``output`` does not depend on). The
    graph is kept for the iteration's final backward."""
    grads = torch.autograd.grad(output, params, grad_outputs=grad_output,
                                retain_graph=True, allow_unused=True)
    return [torch.zeros_like(p) if g is None else g.detach()
            for p, g in zip(params, grads)]


@dataclass
class ForwardContext:
    """One training forward, shared by the recognizer's named steps, its
    method's losses and a gradient strategy.

    Filled in order by :meth:`MultiModalRecognizer.loss`: ``trunk`` ->
    ``pooled`` (-> ``leaves``) -> ``feats``/``uni_feats`` -> ``uni_logits``
    -> ``uni_cls`` -> ``fused_feat``/``fused_logits``. Every dict is keyed by
    modality in the model's order.

    Attributes:
        data_samples: The batch's ``ActionDataSample`` list.
        labels: Class labels, (N,).
        trunk: Frozen trunk outputs (:meth:`extract_trunk`); the teacher and
            any second pass reuse them.
        pooled: Pooled top-stage features after the feature dropout,
            (N, C_k), attached to the trainable encoder parameters.
        feats: ``pooled`` after the feature norm: the fusion's input.
        leaves: With a gradient strategy, detached copies of ``pooled``
            (``requires_grad``) that the uni-modal heads read, so the
            strategy alone decides what reaches the encoders from the
            uni-modal terms; None without a strategy.
        uni_feats: What the uni-modal heads read: ``feats``, or the
            normalised ``leaves`` with a strategy.
        uni_logits: Uni-modal logits, (N, num_classes).
        uni_cls: The method's uni-modal classification terms (unweighted,
            keyed by modality): the losses a gradient strategy modulates.
        fused_feat: The fusion's output, (N, sum_k C_k).
        fused_logits: The fused head's logits, (N, num_classes).
        encoder_params: Trainable encoder parameters per modality.
        extras: Free space for a method's own intermediate results.
    """
    data_samples: SampleList
    labels: torch.Tensor
    trunk: Dict[str, Any]
    pooled: Dict[str, torch.Tensor]
    feats: Dict[str, torch.Tensor]
    uni_feats: Dict[str, torch.Tensor]
    uni_logits: Dict[str, torch.Tensor]
    encoder_params: Dict[str, List[torch.Tensor]]
    leaves: Optional[Dict[str, torch.Tensor]] = None
    uni_cls: Dict[str, torch.Tensor] = field(default_factory=dict)
    fused_feat: Optional[torch.Tensor] = None
    fused_logits: Optional[torch.Tensor] = None
    extras: Dict[str, Any] = field(default_factory=dict)
    _uni_cls_grads: Dict[str, Grads] = field(default_factory=dict,
                                             repr=False)

    def uni_cls_grads(self, modality: str) -> Grads:
        """``grad_theta uni_cls[modality]`` on the modality's trainable
        encoder parameters (unweighted, unmodulated, detached), computed
        once and shared by whoever needs it (a gradient strategy, MBCD's
        look-ahead). Through the detached leaf when there is one."""
        if modality not in self._uni_cls_grads:
            loss, params = self.uni_cls[modality], \
                self.encoder_params[modality]
            if self.leaves is not None:
                dz = torch.autograd.grad(loss, self.leaves[modality],
                                         retain_graph=True)[0]
                grads = vector_jacobian(self.pooled[modality], params, dz)
            else:
                grads = [torch.zeros_like(p) if g is None else g.detach()
                         for p, g in zip(params, torch.autograd.grad(
                             loss, params, retain_graph=True,
                             allow_unused=True))]
            self._uni_cls_grads[modality] = grads
        return self._uni_cls_grads[modality]
