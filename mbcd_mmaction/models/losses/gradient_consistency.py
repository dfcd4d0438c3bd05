"""Gradient consistency constraint (MBCD, Eq. 5)."""
import functools
from typing import Callable, Dict, Mapping, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch.func import functional_call


@MODELS.register_module()
class GradientConsistencyLoss(nn.Module):
    """Fused loss evaluated at uni-modally looked-ahead encoder weights.

    Eq. 5: ``theta'_k = theta_k - alpha * grad_{theta_k} CE_k(theta_k)`` and
    the fused loss is ``CE_fused(theta')``. The look-ahead is first order: the
    inner gradient is detached, so ``d theta' / d theta`` is the identity and
    the fused loss sends ``grad CE_fused(theta')`` to ``theta``. To first
    order this is Eq. 6: the fused and uni-modal gradients are pushed to
    agree. Only the trainable encoder stages are looked ahead; the frozen
    trunk's output is reused, so only those stages run a second time.

    Usage: :meth:`lookahead_layers` turns a modality's top layers into
    callables running at ``theta'``; the caller computes the fused logits
    with them; :meth:`forward` is the weighted cross-entropy of those logits.

    Args:
        alpha (float): Inner step size (the paper: 1e-4).
        loss_weight (float): Weight of the fused loss. Defaults to 1.0.
        sync_distributed (bool): Under distributed training, average the
            inner gradient over the ranks (one all-reduce), so ``theta'`` is
            the look-ahead of the global batch, as with one process; else
            each rank looks ahead on its own share. Defaults to True.
    """

    def __init__(self, alpha: float, loss_weight: float = 1.0,
                 sync_distributed: bool = True):
        super().__init__()
        self.alpha = alpha
        self.loss_weight = loss_weight
        self.sync_distributed = sync_distributed

    @staticmethod
    def _mean_over_ranks(grads, params):
        """Rank-mean of the inner gradients (None counts as zero)."""
        import torch.distributed as dist
        if not (dist.is_available() and dist.is_initialized()
                and dist.get_world_size() > 1):
            return grads
        flat = torch.cat([(torch.zeros_like(p) if g is None else
                           g.detach()).reshape(-1)
                          for g, p in zip(grads, params)])
        dist.all_reduce(flat)
        flat /= dist.get_world_size()
        return [c.view_as(p) for c, p in
                zip(flat.split([p.numel() for p in params]), params)]

    def lookahead_layers(self, uni_loss: Optional[torch.Tensor],
                         layers: Mapping[str, nn.Module],
                         grads: Optional[Sequence[torch.Tensor]] = None
                         ) -> Dict[str, Callable]:
        """Callables equal to ``layers`` with parameters at ``theta'``.

        Args:
            uni_loss: The modality's own classification loss ``CE_k``; its
                graph is kept for the final backward.
            layers: The modality's trainable layers by name.
            grads: ``grad CE_k`` already computed, one per trainable
                parameter in ``layers``' order (then ``uni_loss`` is unused;
                GMP computes it for its own use and passes it on).

        Returns:
            dict: Same keys; each value maps x to ``layer(x)`` evaluated with
            ``theta - alpha * grad`` (gradient detached). BatchNorm running
            statistics of the look-ahead pass go to throw-away copies, so
            every real statistic is updated once per iteration.
        """
        named = [(name, pname, p) for name, layer in layers.items()
                 for pname, p in layer.named_parameters() if p.requires_grad]
        if not named:
            return dict(layers)
        if grads is None:
            grads = torch.autograd.grad(
                uni_loss, [p for _, _, p in named], retain_graph=True,
                allow_unused=True)
        elif len(grads) != len(named):
            raise ValueError(f'lookahead_layers: {len(grads)} gradients for '
                             f'{len(named)} trainable parameters')
        if self.sync_distributed:
            grads = self._mean_over_ranks(grads, [p for _, _, p in named])
        substitutes = {name: {bname: b.clone()
                              for bname, b in layer.named_buffers()}
                       for name, layer in layers.items()}
        for (name, pname, p), g in zip(named, grads):
            substitutes[name][pname] = p if g is None else \
                p - self.alpha * g.detach()
        return {name: functools.partial(functional_call, layer,
                                        substitutes[name])
                for name, layer in layers.items()}

    def forward(self, fused_logits: torch.Tensor,
                labels: torch.Tensor) -> torch.Tensor:
        """Weighted cross-entropy of fused logits computed at ``theta'``."""
        return self.loss_weight * F.cross_entropy(fused_logits, labels)
