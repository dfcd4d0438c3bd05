"""The contract between a recognizer and a gradient-level method."""
from typing import Dict, Mapping, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from ..recognizers.context import ForwardContext, Grads


class BaseGradientStrategy(BaseModule):
    """A gradient-level method composable with any recognizer by config
    (``model.gradient_modulation``).

    The recognizer (:meth:`MultiModalRecognizer.loss`) gives the strategy
    one :class:`ForwardContext` in which the uni-modal heads read detached
    leaves of the pooled features, and sorts the method's losses into two
    groups without looking at their names:

    - ``ctx.uni_cls``: the uni-modal classification terms per modality
      (step 4); the strategy owns their gradient on the encoders
      (:meth:`encoder_gradients`);
    - the method's other losses (step 6): they reach the encoders
      unmodulated; :meth:`encoder_loss` carries the part of their gradient
      that flows through the leaves.

    A method that needs the plain gradient of a uni-modal term (MBCD's
    look-ahead) reads ``ctx.uni_cls_grads(m)``, which the strategy also
    uses: it is computed once and never passes through the strategy.
    """

    def encoder_gradients(self, ctx: ForwardContext, cls_weight: float
                          ) -> Tuple[Dict[str, torch.Tensor],
                                     Dict[str, Grads]]:
        """The strategy's own losses and the encoder gradient it wants.

        Args:
            ctx: After steps 1-4 (``uni_logits`` and ``uni_cls`` set).
            cls_weight: Weight of each ``ctx.uni_cls`` term in the loss.

        Returns:
            tuple: ``losses`` (the strategy's own losses and logs, summed
            and logged by mmengine like the method's; they train the
            strategy's modules and reach the encoders only through ``G``)
            and ``G`` (per modality, one tensor per parameter of
            ``ctx.encoder_params[m]``).
        """
        raise NotImplementedError

    @staticmethod
    def encoder_loss(ctx: ForwardContext, G: Mapping[str, Grads],
                     passthrough: Sequence[torch.Tensor]) -> torch.Tensor:
        """A term of value 0 whose gradient is ``G`` on the encoder
        parameters plus, through ``ctx.pooled``, the gradient that the
        ``passthrough`` losses send into the leaves (e.g. MBCD's uni-modal
        distillation), so those reach the encoders unmodulated."""
        inputs, grads = [], []
        if passthrough:
            feature_grads = torch.autograd.grad(
                sum(passthrough), list(ctx.leaves.values()),
                retain_graph=True, allow_unused=True)
            for m, g in zip(ctx.leaves, feature_grads):
                if g is not None:
                    inputs.append(ctx.pooled[m])
                    grads.append(g.detach())
        for m, modality_grads in G.items():
            inputs += ctx.encoder_params[m]
            grads += [g.detach() for g in modality_grads]
        return _InjectGradients.apply(grads, *inputs)


class _InjectGradients(torch.autograd.Function):
    """Value 0; the backward hands each input its given gradient (times the
    gradient of the total loss w.r.t. this term: 1, or a loss scale), so a
    computed gradient joins the one backward of the summed losses (DDP's
    hooks see it like any other) without a pass over the parameters in the
    forward."""

    @staticmethod
    def forward(ctx, grads, *inputs):
        ctx.grads = grads
        # float32 whatever the inputs' dtype: under fp16 autocast the
        # incoming gradient carries the loss scale (65536 is inf in fp16).
        return torch.zeros((), dtype=torch.float32, device=inputs[0].device)

    @staticmethod
    def backward(ctx, grad_output):
        if ctx.grads is None:
            raise RuntimeError('the modulated encoder gradient was already '
                               'handed out by an earlier backward')
        grads, ctx.grads = ctx.grads, None
        scale = float(grad_output)  # 1, or a loss scale / accumulation
        if scale != 1.0:
            grads = torch._foreach_mul(grads, scale)
        return (None, *grads)
