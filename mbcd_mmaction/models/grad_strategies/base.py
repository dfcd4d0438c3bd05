"""The contract between a recognizer and a gradient-level method."""
from typing import Dict, Mapping, Sequence, Tuple

import torch
from mmengine.model import BaseModule

from mbcd_mmaction.structures import ForwardContext, Grads, InjectGradients


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
        parameters plus the unmodulated gradient of the method's losses
        that read the leaves: ``ctx.passthrough_grads(m)`` (given before
        the fusion, computed with the task gradients) and, through
        ``ctx.pooled``, the gradient that the ``passthrough`` losses send
        into the leaves (the recognizer passes none when the method gave
        ``ctx.leaf_passthrough``)."""
        G = dict(G)
        for m in ctx.leaves:
            extra = ctx.passthrough_grads(m)
            if extra is None:
                continue
            if m in G:
                G[m] = list(G[m])
                torch._foreach_add_(G[m], extra)
            else:
                G[m] = extra
        return ctx.injection(G, ctx.leaf_feature_grads(list(passthrough)))


#: The zero-valued term that carries computed gradients into the backward.
_InjectGradients = InjectGradients
