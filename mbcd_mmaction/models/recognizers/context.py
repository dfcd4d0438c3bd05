"""What one training forward of a recognizer computed, for the losses."""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from mmaction.utils import SampleList

Grads = List[torch.Tensor]


def _detached(params: Sequence[torch.Tensor], grads) -> Grads:
    """Detached gradients, zeros for parameters without one."""
    return [torch.zeros_like(p) if g is None else g.detach()
            for p, g in zip(params, grads)]


def vector_jacobians(output: torch.Tensor, params: Sequence[torch.Tensor],
                     grad_outputs: Sequence[Optional[torch.Tensor]],
                     batched: bool = True) -> List[Grads]:
    """``grad_output``-weighted gradients of ``output`` w.r.t. ``params``,
    one list per entry of ``grad_outputs`` (None for a scalar ``output``),
    detached, zeros for parameters ``output`` does not depend on; the
    graph is kept for the iteration's final backward. ``batched``: several
    in one batched backward (``is_grads_batched``), each layer's backward
    run once on the stacked gradients (equal up to rounding; for two, up
    to about 20 % faster on the paper's RGB top stage on CPU, no faster on
    the audio one); else one backward
    each (a backward that communicates, e.g. SyncBatchNorm's, cannot be
    batched)."""
    if len(grad_outputs) == 1 or not batched:
        return [_detached(params, torch.autograd.grad(
                    output, params, grad_outputs=grad_output,
                    retain_graph=True, allow_unused=True))
                for grad_output in grad_outputs]
    grads = torch.autograd.grad(output, params,
                                grad_outputs=torch.stack(list(grad_outputs)),
                                retain_graph=True, allow_unused=True,
                                is_grads_batched=True)
    return [_detached(params, [None if g is None else g[i] for g in grads])
            for i in range(len(grad_outputs))]


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
        batch_vjps: Compute several encoder gradients of a modality in one
            batched backward (False when a top stage's backward
            communicates, e.g. SyncBatchNorm).
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
    batch_vjps: bool = True
    _uni_cls_grads: Dict[str, Grads] = field(default_factory=dict,
                                             repr=False)

    def uni_cls_grads(self, modality: str) -> Grads:
        """``grad_theta uni_cls[modality]`` on the modality's trainable
        encoder parameters (unweighted, unmodulated, detached), computed
        once and shared by whoever needs it (a gradient strategy, MBCD's
        look-ahead). Through the detached leaf when there is one."""
        return self.uni_cls_and_leaf_grads(modality)[0]

    def uni_cls_and_leaf_grads(self, modality: str,
                               leaf_grads: Sequence[torch.Tensor] = ()
                               ) -> Tuple[Grads, List[Grads]]:
        """:meth:`uni_cls_grads` and, for each gradient on the modality's
        leaf in ``leaf_grads`` (e.g. GMP's domain loss), its encoder
        gradient, computed in the same batched backward through the top
        stages when the uni-modal gradient is not cached yet.

        Returns:
            tuple: The uni-modal gradient and one gradient per
            ``leaf_grads`` entry (lists like ``encoder_params[modality]``).
        """
        params = self.encoder_params[modality]
        if self.leaves is None:
            if leaf_grads:
                raise ValueError('leaf_grads need detached leaves (a '
                                 'gradient strategy)')
            if modality not in self._uni_cls_grads:
                self._uni_cls_grads[modality] = vector_jacobians(
                    self.uni_cls[modality], params, [None])[0]
            return self._uni_cls_grads[modality], []
        grad_outputs = list(leaf_grads)
        cached = modality in self._uni_cls_grads
        if not cached:
            grad_outputs.insert(0, torch.autograd.grad(
                self.uni_cls[modality], self.leaves[modality],
                retain_graph=True)[0])
        grads = vector_jacobians(self.pooled[modality], params,
                                 grad_outputs, self.batch_vjps) \
            if grad_outputs else []
        if not cached:
            self._uni_cls_grads[modality] = grads.pop(0)
        return self._uni_cls_grads[modality], grads

    def release_uni_cls_grads(self) -> None:
        """Frees the gradients :meth:`uni_cls_grads` holds (one copy of
        the trainable encoder parameters) once their last reader is done,
        so they are not alive during the rest of the forward and the
        backward (a later call would compute them again)."""
        self._uni_cls_grads.clear()
