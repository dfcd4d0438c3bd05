"""What one training forward of a recognizer computed, for the losses."""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

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


class InjectGradients(torch.autograd.Function):
    """Value 0; the backward hands each input its given gradient (times the
    gradient of the total loss w.r.t. this term: 1, or a loss scale), so a
    gradient computed in the forward joins the one backward of the summed
    losses (DDP's hooks see it like any other) without a pass over the
    parameters in the forward. An input may appear more than once (its
    gradients add up)."""

    @staticmethod
    def forward(ctx, grads, *inputs):
        ctx.grads = grads
        # float32 whatever the inputs' dtype: under fp16 autocast the
        # incoming gradient carries the loss scale (65536 is inf in fp16).
        return torch.zeros((), dtype=torch.float32, device=inputs[0].device)

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.grads is None:
            raise RuntimeError('an injected encoder gradient was already '
                               'handed out by an earlier backward')
        grads, ctx.grads = ctx.grads, None
        scale = float(grad_output)  # 1, or a loss scale / accumulation
        if scale != 1.0:
            grads = torch._foreach_mul(grads, scale)
        return (None, *grads)


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
        leaf_passthrough: With leaves, the part of the method's step-6
            losses that reads the uni-modal predictions, given before the
            fusion (:meth:`MultiModalRecognizer.leaf_passthrough`, e.g.
            MBCD's uni-modal distillation): its encoder gradient is
            computed in the same backward through the top stages as the
            uni-modal terms' (:meth:`passthrough_grads`), so the final
            backward need not run the top stages for it. Set with
            :meth:`set_leaf_passthrough`.
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
    leaf_passthrough: Optional[torch.Tensor] = None
    _uni_cls_grads: Dict[str, Grads] = field(default_factory=dict,
                                             repr=False)
    _passthrough_grads: Dict[str, Optional[Grads]] = field(
        default_factory=dict, repr=False)
    _passthrough_leaf_grads: Optional[Dict[str, torch.Tensor]] = field(
        default=None, repr=False)
    _passthrough_handed: set = field(default_factory=set, repr=False)

    def set_leaf_passthrough(self, term: Optional[torch.Tensor]) -> None:
        """Sets :attr:`leaf_passthrough` (None: none), before any encoder
        gradient is computed (they are computed together)."""
        if self._uni_cls_grads or self._passthrough_grads:
            raise RuntimeError('set_leaf_passthrough after the uni-modal '
                               'encoder gradients were computed: set it at '
                               'step 4b, before the gradient strategy')
        if term is not None and self.leaves is None:
            raise ValueError('leaf_passthrough needs detached leaves')
        self.leaf_passthrough = term

    def _passthrough_leaf_grad(self, modality: str
                               ) -> Optional[torch.Tensor]:
        """``d leaf_passthrough / d leaves[modality]`` (None without one
        or without a path), all modalities in one backward through the
        heads."""
        if self.leaf_passthrough is None:
            return None
        if self._passthrough_leaf_grads is None:
            grads = torch.autograd.grad(
                self.leaf_passthrough, list(self.leaves.values()),
                retain_graph=True, allow_unused=True)
            self._passthrough_leaf_grads = {
                m: None if g is None else g.detach()
                for m, g in zip(self.leaves, grads)}
        return self._passthrough_leaf_grads.pop(modality, None)

    def passthrough_grads(self, modality: str) -> Optional[Grads]:
        """The encoder gradient of :attr:`leaf_passthrough` on the
        modality's parameters (None when it does not reach them), computed
        with :meth:`uni_cls_grads` in one backward; handed out once, to
        the term that injects it."""
        if self.leaf_passthrough is None:
            return None
        if modality in self._passthrough_handed:
            raise RuntimeError(f'passthrough_grads({modality!r}) was '
                               'already handed out')
        if modality not in self._passthrough_grads:
            self.uni_cls_grads(modality)
        self._passthrough_handed.add(modality)
        return self._passthrough_grads.pop(modality)

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
        stages when the uni-modal gradient is not cached yet (with
        :attr:`leaf_passthrough`, its gradient joins that backward too).

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
        passthrough = None
        if not cached:
            if modality in self._passthrough_handed:
                raise RuntimeError(
                    f'the uni-modal gradient of {modality!r} is asked for '
                    'again after release_uni_cls_grads, when its '
                    'leaf_passthrough gradient was already handed out')
            passthrough = self._passthrough_leaf_grad(modality)
            if passthrough is not None:
                grad_outputs.insert(0, passthrough)
            grad_outputs.insert(0, torch.autograd.grad(
                self.uni_cls[modality], self.leaves[modality],
                retain_graph=True)[0])
        grads = vector_jacobians(self.pooled[modality], params,
                                 grad_outputs, self.batch_vjps) \
            if grad_outputs else []
        if not cached:
            self._uni_cls_grads[modality] = grads.pop(0)
            if self.leaf_passthrough is not None:
                self._passthrough_grads[modality] = grads.pop(0) \
                    if passthrough is not None else None
        return self._uni_cls_grads[modality], grads

    def release_uni_cls_grads(self) -> None:
        """Drops this context's references to the gradients
        :meth:`uni_cls_grads` holds (one copy of the trainable encoder
        parameters) once their last reader in the forward is done, so
        they are not alive during the backward unless a term that injects
        them holds them (a later call would compute them again)."""
        self._uni_cls_grads.clear()

    def leaf_feature_grads(self, losses: Sequence[torch.Tensor]
                           ) -> Dict[str, torch.Tensor]:
        """The gradient that ``sum(losses)`` sends into each leaf (only
        the modalities it reaches), through the heads only."""
        if not losses:
            return {}
        grads = torch.autograd.grad(sum(losses), list(self.leaves.values()),
                                    retain_graph=True, allow_unused=True)
        return {m: g.detach() for m, g in zip(self.leaves, grads)
                if g is not None}

    def injection(self, G: Mapping[str, Grads],
                  feature_grads: Mapping[str, torch.Tensor] = {}
                  ) -> torch.Tensor:
        """A term of value 0 whose gradient is ``G[m]`` on the encoder
        parameters of each modality in ``G`` plus, through ``pooled[m]``,
        ``feature_grads[m]`` (a leaf gradient that the final backward then
        carries through the top stages)."""
        inputs, grads = [], []
        for m, g in feature_grads.items():
            inputs.append(self.pooled[m])
            grads.append(g)
        for m, modality_grads in G.items():
            inputs += self.encoder_params[m]
            grads += [g.detach() for g in modality_grads]
        if not inputs:
            raise ValueError('injection: no gradient to inject')
        return InjectGradients.apply(grads, *inputs)
