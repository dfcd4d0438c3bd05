"""Gradient Modulation and Projection (GMP; Li et al., AAAI 2026,
arXiv 2603.14175), a gradient-level strategy composable with any method.

Per modality ``m`` two task gradients on the modality's trainable encoder
parameters ``theta_m`` (its top stages) are decoupled:

- classification: ``g_c = k_m * grad_theta(w_cls * CE_m)`` (its own head);
- domain invariance: ``g_d = p_m * grad_theta(w_dom * CE_dom_m)`` where the
  domain loss goes through a gradient-reversal layer (factor 0.3), a
  per-modality projection and one discriminator shared by the modalities.

Semantic confidence ``q_m`` (batch mean softmax at the true class, own head)
and domain confidence ``c_m`` (batch mean discriminator softmax at the true
source domain) give ``rho_m = q_m / mean_{j!=m} q_j`` and
``sigma_m = mean_{j!=m} c_j / c_m``; the coefficients are
``k_m = 1 - tanh(alpha_k rho_m)`` if ``rho_m > 1`` else 1 and
``p_m = 1 - tanh(alpha_p sigma_m)`` if ``sigma_m > 1`` else 1. When the two
task gradients conflict (``g_c . g_d < 0``) the stronger task's gradient is
projected onto the plane normal to the other's: ``g_c`` if
``rho_m / sigma_m >= 1``, else ``g_d``. The encoder receives the fused CE
gradient unmodulated plus ``g_c + g_d``; heads, projections and the
discriminator are trained by their ordinary gradients.

How the recognizer uses it (one backward per iteration, DDP-safe; the
contract is :class:`BaseGradientStrategy`): the uni-modal heads and the
domain branch read a detached copy (a leaf) of each pooled feature, so their
losses train heads, norms, projections and the discriminator but never reach
``theta``. :meth:`encoder_gradients` maps the leaf gradients of the
method's uni-modal classification terms (``ctx.uni_cls``) and of the domain
losses to ``theta`` (vector-Jacobian products through the top stages,
``torch.autograd.grad`` with the graph retained), modulates and projects
them, and :meth:`encoder_loss` returns a term whose gradient is exactly that
result on ``theta`` and whose value is 0.
"""
import math
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import ModuleDict

from mbcd_mmaction.structures import ForwardContext, Grads
from .base import BaseGradientStrategy

class _GradientReversal(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.factor * grad, None


class GradientReversal(nn.Module):
    """Identity forward; multiplies the gradient by ``-factor`` backward."""

    def __init__(self, factor: float = 0.3) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _GradientReversal.apply(x, self.factor)

    def extra_repr(self) -> str:
        return f'factor={self.factor}'


def modulation_coefficient(ratio: float, alpha: float) -> float:
    """``1 - tanh(alpha * ratio)`` if ``ratio > 1`` else 1 (GMP's k / p)."""
    return 1.0 - math.tanh(alpha * ratio) if ratio > 1.0 else 1.0


def relative_ratios(values: Mapping[str, float], inverse: bool = False
                    ) -> Dict[str, float]:
    """``v_m / mean_{j!=m} v_j`` (``inverse``: ``mean_{j!=m} v_j / v_m``).

    With one modality the ratio is 1 (nothing to compare with).
    """
    names = list(values)
    out = {}
    for m in names:
        others = [values[j] for j in names if j != m]
        if not others:
            out[m] = 1.0
            continue
        mean = sum(others) / len(others)
        num, den = (mean, values[m]) if inverse else (values[m], mean)
        out[m] = num / max(den, 1e-12)
    return out


def _dot(a: Grads, b: Grads) -> float:
    """Dot product of two gradients given as lists of tensors (BLAS dot per
    tensor; no temporaries for contiguous ones)."""
    return float(sum(torch.dot(x.reshape(-1), y.reshape(-1))
                     for x, y in zip(a, b)))


@MODELS.register_module()
class GradientModulationProjection(BaseGradientStrategy):
    """GMP: per-modality domain branch plus gradient modulation/projection.

    Built by :class:`MultiModalRecognizer` from
    ``model.gradient_modulation`` with ``feat_dims`` filled in. The
    recognizer's ``uni_loss_weight`` is the classification weight ``w_cls``
    (GMP configs set 3.0).

    Args:
        feat_dims (dict): ``{modality: pooled feature size}``.
        source_domains (Sequence[str]): Training domains; a sample's
            ``domain`` metainfo is mapped to its index here. ``None`` in
            configs, filled by ``apply_protocol``. With one source domain
            the domain branch is off (semantic modulation only).
        proj_channels (int): Projection width (the paper: 512).
        disc_hidden (int): Discriminator hidden width (256).
        proj_dropout (float): Dropout of the projection (0.5).
        grl_factor (float): Gradient-reversal factor (0.3).
        domain_loss_weight (float): ``w_dom`` of each modality's domain
            CE (0.5).
        alpha_k (float): Semantic modulation strength (0.5).
        alpha_p (float): Domain modulation strength (0.5).
        use_k (bool): Modulate the classification gradient (ablation
            "w/o k": False).
        use_p (bool): Modulate the domain gradient (ablation "w/o p":
            False).
        shared_coefficient (str, optional): Ablation "one shared
            coefficient": ``'product'`` scales both task gradients by
            ``k_m * p_m``, ``'semantic'`` by ``k_m``. Defaults to None
            (decoupled: ``k_m`` and ``p_m``).
        projection_mode (str): What to project when ``g_c . g_d < 0``:
            ``'adaptive'`` (paper: ``g_c`` if ``rho/sigma >= 1`` else
            ``g_d``), ``'reversed'`` (the opposite choice),
            ``'classification'`` (always ``g_c``), ``'domain'`` (always
            ``g_d``), ``'pcgrad'`` (both, each against the other's original,
            PCGrad) or ``'none'``.
    """

    PROJECTION_MODES = ('adaptive', 'reversed', 'classification',
                        'domain', 'pcgrad', 'none')
    SHARED = (None, 'product', 'semantic')

    def __init__(self,
                 feat_dims: Mapping[str, int],
                 source_domains: Optional[Sequence[str]],
                 proj_channels: int,
                 disc_hidden: int,
                 proj_dropout: float,
                 grl_factor: float,
                 domain_loss_weight: float,
                 alpha_k: float,
                 alpha_p: float,
                 use_k: bool,
                 use_p: bool,
                 projection_mode: str,
                 shared_coefficient: Optional[str] = None) -> None:
        super().__init__()
        if source_domains is None:
            raise ValueError(
                'GradientModulationProjection: source_domains is None. '
                'apply_protocol fills it from target_domain (tools/train.py '
                'does this); when building by hand pass the training '
                "domains, e.g. source_domains=['D2', 'D3'].")
        if isinstance(source_domains, str):
            source_domains = [source_domains]
        if not source_domains or len(set(source_domains)) != len(
                source_domains):
            raise ValueError('source_domains must be non-empty and '
                             f'distinct, got {source_domains!r}')
        if projection_mode not in self.PROJECTION_MODES:
            raise ValueError('projection_mode must be one of '
                             f'{self.PROJECTION_MODES}, got '
                             f'{projection_mode!r}')
        if shared_coefficient not in self.SHARED:
            raise ValueError(f'shared_coefficient must be one of '
                             f'{self.SHARED}, got {shared_coefficient!r}')
        self.source_domains = tuple(source_domains)
        self.domain_index = {d: i for i, d in enumerate(self.source_domains)}
        self.domain_loss_weight = domain_loss_weight
        self.alpha_k, self.alpha_p = alpha_k, alpha_p
        self.use_k, self.use_p = use_k, use_p
        self.shared_coefficient = shared_coefficient
        self.projection_mode = projection_mode
        self.with_domain = len(self.source_domains) > 1
        if self.with_domain:
            self.grl = GradientReversal(grl_factor)
            self.projections = ModuleDict({
                m: nn.Sequential(nn.Linear(d, proj_channels),
                                 nn.ReLU(inplace=True),
                                 nn.Dropout(proj_dropout))
                for m, d in feat_dims.items()})
            self.discriminator = nn.Sequential(
                nn.Linear(proj_channels, disc_hidden),
                nn.BatchNorm1d(disc_hidden), nn.ReLU(inplace=True),
                nn.Linear(disc_hidden, len(self.source_domains)))

    # -- domain branch --------------------------------------------------------
    def domain_labels(self, data_samples, device) -> torch.Tensor:
        """Index of each sample's ``domain`` in ``source_domains``."""
        out = []
        for s in data_samples:
            name = s.metainfo.get('domain', None)
            if name not in self.domain_index:
                raise ValueError(
                    f'GMP: a training sample has domain {name!r}, which is '
                    f'not a source domain {self.source_domains}; '
                    'source_domains must list the training domains (leave '
                    'it None in the config for apply_protocol to fill).')
            out.append(self.domain_index[name])
        return torch.tensor(out, dtype=torch.long, device=device)

    def domain_logits(self, feats: Mapping[str, torch.Tensor]
                      ) -> Dict[str, torch.Tensor]:
        """``D(P_m(GRL(f_m)))`` per modality (empty with one source)."""
        if not self.with_domain:
            return {}
        return {m: self.discriminator(self.projections[m](self.grl(f)))
                for m, f in feats.items()}

    # -- coefficients ---------------------------------------------------------
    @staticmethod
    def confidences(logits: Mapping[str, torch.Tensor],
                    targets: torch.Tensor) -> Dict[str, float]:
        """Batch mean softmax at ``targets`` per modality, over the global
        batch (numerators and counts summed over ranks)."""
        names = list(logits)
        stats = torch.stack([
            logits[m].detach().float().softmax(1).gather(
                1, targets.view(-1, 1)).sum() for m in names] +
            [torch.tensor(float(targets.numel()), device=targets.device)])
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(stats)
        stats = stats.tolist()
        return {m: stats[i] / max(stats[-1], 1.0)
                for i, m in enumerate(names)}

    def coefficients(self, q: Mapping[str, float],
                     c: Optional[Mapping[str, float]]) -> Dict[str, Dict]:
        """``rho, sigma, k, p`` per modality (python floats), with the
        ablation switches applied to ``k`` and ``p``."""
        rho = relative_ratios(q)
        sigma = relative_ratios(c, inverse=True) if c else \
            {m: 1.0 for m in q}
        out = {}
        for m in q:
            k = modulation_coefficient(rho[m], self.alpha_k) \
                if self.use_k else 1.0
            p = modulation_coefficient(sigma[m], self.alpha_p) \
                if self.use_p and c else 1.0
            if self.shared_coefficient == 'product':
                k = p = k * p
            elif self.shared_coefficient == 'semantic':
                p = k
            out[m] = dict(rho=rho[m], sigma=sigma[m], k=k, p=p)
        return out

    def combination(self, dots: Tuple[float, float, float], rho: float,
                    sigma: float, eps: float = 1e-12
                    ) -> Tuple[float, float, Dict[str, float]]:
        """The conflict-adaptive projection as coefficients: ``g_c + g_d``
        after projection is ``a * g_c + b * g_d`` (projecting one gradient
        onto the plane normal to the other is a linear combination of the
        two), so only their dot products are needed.

        Args:
            dots: ``(g_c . g_c, g_d . g_d, g_c . g_d)`` of the modulated
                task gradients.
            rho, sigma: The modality's semantic and domain ratios.
            eps: Added to a squared norm before dividing by it.

        Returns:
            tuple: ``a``, ``b`` and logs: ``cos`` (cosine before
            projection) and ``projected`` (0 none, 1 g_c, 2 g_d, 3 both).
        """
        cc, dd, cd = dots
        norm = math.sqrt(max(cc * dd, 0.0))
        cos = cd / norm if norm > 0 else 0.0
        which = 0
        if cd < 0 and self.projection_mode != 'none':
            stronger_cls = rho >= sigma  # rho / sigma >= 1
            if self.projection_mode == 'adaptive':
                which = 1 if stronger_cls else 2
            elif self.projection_mode == 'reversed':
                which = 2 if stronger_cls else 1
            else:
                which = dict(classification=1, domain=2,
                             pcgrad=3)[self.projection_mode]
        a, b = 1.0, 1.0
        if which in (1, 3):  # g_c - (g_c.g_d / |g_d|^2) g_d
            b -= cd / (dd + eps)
        if which in (2, 3):  # g_d - (g_c.g_d / |g_c|^2) g_c
            a -= cd / (cc + eps)
        return a, b, dict(cos=cos, projected=float(which))

    # -- the strategy interface ----------------------------------------------
    def encoder_gradients(self, ctx: ForwardContext, cls_weight: float
                          ) -> Tuple[Dict[str, torch.Tensor],
                                     Dict[str, Grads]]:
        """Domain losses and the modulated/projected encoder gradient.

        Args:
            ctx: The recognizer's context after the uni-modal terms: reads
                ``leaves``, ``pooled``, ``uni_feats`` (the domain branch's
                input), ``uni_logits``, ``uni_cls`` (the unweighted CE
                ``CE_m``, whose plain gradient ``ctx.uni_cls_grads(m)``
                gives), ``labels``, ``data_samples`` (their ``domain``
                metainfo gives domain labels) and ``encoder_params``.
            cls_weight: Weight ``w_cls`` of the uni-modal CE.

        Returns:
            tuple: ``losses`` (weighted ``{m}_loss_domain`` keys and
            ``{m}_gmp_*`` logs) and ``G`` (per modality, list like
            ``ctx.encoder_params[m]``: ``g_c + g_d`` after projection).
        """
        missing = [m for m in ctx.leaves if m not in ctx.uni_cls]
        if missing:
            raise ValueError(
                f'GMP modulates each modality\'s uni-modal classification '
                f'term, but the method gives none for {missing}; set '
                'model.uni_loss_weight (the GMP paper uses 3.0)')
        labels = ctx.labels
        losses = {}
        dom_logits = self.domain_logits(ctx.uni_feats)
        dom_losses = {}
        c = None
        if dom_logits:
            dom_labels = self.domain_labels(ctx.data_samples, labels.device)
            dom_losses = {m: F.cross_entropy(v, dom_labels)
                          for m, v in dom_logits.items()}
            for m, v in dom_losses.items():
                losses[f'{m}_loss_domain'] = self.domain_loss_weight * v
            c = self.confidences(dom_logits, dom_labels)
        q = self.confidences(ctx.uni_logits, labels)
        coeffs = self.coefficients(q, c)

        G = {}
        for m, leaf in ctx.leaves.items():
            co = coeffs[m]
            scale_c = co['k'] * cls_weight
            if m in dom_losses:
                dz = torch.autograd.grad(dom_losses[m], leaf,
                                         retain_graph=True)[0]
                # One batched backward through the top stages for both
                # task gradients (unless the plain one is cached).
                g_c, (g_d,) = ctx.uni_cls_and_leaf_grads(m, [dz])
                scale_d = co['p'] * self.domain_loss_weight
                # The modulated gradients' dot products, from the plain
                # ones: the scales are numbers.
                a, b, logs = self.combination(
                    (scale_c**2 * _dot(g_c, g_c), scale_d**2 * _dot(g_d, g_d),
                     scale_c * scale_d * _dot(g_c, g_d)),
                    co['rho'], co['sigma'])
                # In place in g_d (a view into the batched gradients, as
                # is g_c): no further parameter-sized copy is held.
                torch._foreach_mul_(g_d, b * scale_d)
                torch._foreach_add_(g_d, g_c, alpha=a * scale_c)
                G[m] = g_d
            else:
                G[m] = torch._foreach_mul(list(ctx.uni_cls_grads(m)),
                                          scale_c)
                logs = dict(cos=0.0, projected=0.0)
            logged = dict(k=co['k'], q=q[m])
            if c is not None:
                logged.update(p=co['p'], c=c[m], **logs)
            for name, value in logged.items():
                # logged only: mmengine sums keys containing 'loss'
                losses[f'{m}_gmp_{name}'] = torch.tensor(
                    float(value), device=labels.device)
        return losses, G
