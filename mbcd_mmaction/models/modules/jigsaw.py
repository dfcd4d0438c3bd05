"""MOOSA's multimodal jigsaw puzzle (Dong, Chatzi, Fink, ECCV 2024)."""
import math
import random
from typing import Mapping, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule


def unrank_permutation(index: int, n: int) -> Tuple[int, ...]:
    """The ``index``-th permutation of ``range(n)`` in lexicographic order,
    which is ``itertools.permutations``' order, without enumerating.

    ``(0, 1, 2)`` is index 0, ``(1, 2, 0)`` index 3, ``(2, 1, 0)`` index 5.

    Raises:
        ValueError: ``index`` outside ``[0, n!)``.
    """
    if not 0 <= index < math.factorial(n):
        raise ValueError(f'permutation index {index} outside [0, {n}!)')
    items, perm = list(range(n)), []
    for i in range(n, 0, -1):
        digit, index = divmod(index, math.factorial(i - 1))
        perm.append(items.pop(digit))
    return tuple(perm)


@MODELS.register_module()
class MultimodalJigsaw(BaseModule):
    """Classify which permutation shuffled the feature chunks.

    Each modality's full feature is cut into ``num_splits`` equal chunks;
    the ``M * num_splits`` chunks, in concatenation order, are permuted by
    each of ``num_permutations`` fixed permutations and concatenated, and
    ``Linear(D, H)-ReLU-Linear(H, P)`` is trained by cross-entropy to name
    the permutation (its position in the drawn list). Gradients reach the
    features.

    The permutations are drawn once, as MOOSA does at start-up:
    ``random.Random(seed).sample(range((M*n)!), P)`` (the same indices as
    the authors' ``random.seed(seed); random.sample(...)``), index ``r``
    being the ``r``-th permutation in ``itertools.permutations`` order,
    obtained by :func:`unrank_permutation` rather than by enumerating
    ``(M*n)!`` permutations (12! for three modalities with 4 splits). The
    authors use ``num_splits = 2`` for three modalities and 4 for two.

    Args:
        feat_dims (Mapping[str, int]): Feature size by modality, in
            concatenation order.
        num_splits (int): Chunks per modality (``jigsaw_num_splits``).
        num_permutations (int): ``P`` (``jigsaw_samples``, 128).
        hidden_channels (int): ``H`` (``jigsaw_hidden``, 512).
        seed (int): Seed of the permutation draw (the authors' default
            ``--seed``, 0).
        loss_weight (float): ``jigsaw_ratio`` (1.0).
    """

    def __init__(self, feat_dims: Mapping[str, int], num_splits: int,
                 num_permutations: int, hidden_channels: int, seed: int,
                 loss_weight: float, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        uneven = {m: d for m, d in feat_dims.items() if d % num_splits}
        if num_splits < 1 or uneven:
            raise ValueError(f'MultimodalJigsaw: feature sizes {uneven} are '
                             f'not divisible by num_splits={num_splits}')
        num_parts = len(feat_dims) * num_splits
        if not 1 <= num_permutations <= math.factorial(num_parts):
            raise ValueError(
                f'MultimodalJigsaw: num_permutations={num_permutations} not '
                f'in [1, {num_parts}!] ({len(feat_dims)} modalities x '
                f'{num_splits} splits)')
        self.modalities = tuple(feat_dims)
        self.loss_weight = loss_weight
        indices = random.Random(seed).sample(
            range(math.factorial(num_parts)), num_permutations)
        perms = torch.tensor([unrank_permutation(i, num_parts)
                              for i in indices])
        # Channel ranges of the parts in the concatenated feature.
        parts, start = [], 0
        for d in feat_dims.values():
            for _ in range(num_splits):
                parts.append(torch.arange(start, start + d // num_splits))
                start += d // num_splits
        gather = torch.stack([torch.cat([parts[j] for j in p])
                              for p in perms.tolist()])
        # Derived from the seed, so not saved in checkpoints.
        self.register_buffer('permutations', perms, persistent=False)
        self.register_buffer('gather_index', gather, persistent=False)
        self.classifier = nn.Sequential(
            nn.Linear(start, hidden_channels), nn.ReLU(),
            nn.Linear(hidden_channels, num_permutations))

    def shuffle(self, feats: Mapping[str, torch.Tensor]
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """The permuted rows and their labels.

        Args:
            feats: ``{modality: (B, d_k)}``.

        Returns:
            tuple: rows (P*B, D), permutation-major as the authors', and
            labels (P*B,) (the permutation's position in the drawn list).
        """
        if tuple(feats) != self.modalities:
            raise ValueError(f'MultimodalJigsaw was built for modalities '
                             f'{self.modalities} (in this order), got '
                             f'{tuple(feats)}')
        x = torch.cat(list(feats.values()), dim=1)
        num_perms, dim = self.gather_index.shape
        # gather on an expanded view rather than x[:, index]: the backward
        # of advanced indexing accumulates each element's P gradients in a
        # thread-dependent order (two identical runs differed); here each
        # (permutation, sample) row scatters to distinct places and the P
        # copies are summed by the expand's backward, deterministically.
        batch = x.shape[0]
        rows = torch.gather(
            x.unsqueeze(0).expand(num_perms, batch, dim), 2,
            self.gather_index.unsqueeze(1).expand(num_perms, batch, dim)
        ).reshape(-1, dim)
        labels = torch.arange(num_perms, device=x.device).repeat_interleave(
            x.shape[0])
        return rows, labels

    def forward(self, feats: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Jigsaw cross-entropy over the ``P * B`` rows."""
        rows, labels = self.shuffle(feats)
        return self.loss_weight * F.cross_entropy(self.classifier(rows),
                                                  labels)
