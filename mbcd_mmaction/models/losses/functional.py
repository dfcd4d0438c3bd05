"""Small functions shared by the baselines' losses and modules."""
import itertools
from typing import Iterable, List, Sequence, Tuple

import torch
import torch.nn.functional as F

#: The order that fixes every pairwise quantity of the baselines: RNA-Net's
#: ratios are v/f, v/a, f/a and CMRF mixes (v,f), (v,a), (f,a)
#: (docs/methods.md).
MODALITY_ORDER = ('rgb', 'flow', 'audio')


def modality_pairs(modalities: Iterable[str],
                   order: Sequence[str] = MODALITY_ORDER
                   ) -> List[Tuple[str, str]]:
    """Unordered pairs of ``modalities``, each oriented by ``order``.

    Args:
        modalities: The modalities present (any order).
        order: Every modality's rank; the earlier one of a pair comes first.

    Returns:
        list[tuple[str, str]]: e.g. ``[('rgb', 'flow'), ('rgb', 'audio'),
        ('flow', 'audio')]`` for all three.

    Raises:
        ValueError: a modality not in ``order``, or fewer than two.
    """
    modalities = list(modalities)
    unknown = [m for m in modalities if m not in order]
    if unknown:
        raise ValueError(f'modalities {unknown} have no place in the pair '
                         f'order {tuple(order)}')
    if len(modalities) < 2:
        raise ValueError('a pairwise loss needs at least two modalities, '
                         f'got {modalities}')
    ranked = sorted(modalities, key=list(order).index)
    return list(itertools.combinations(ranked, 2))


def unit_l2_distance(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``mean_i || x_i/||x_i|| - y_i/||y_i|| ||_2`` (not squared).

    SimMMDG's translation loss and CMRF's distillation distance; it is
    invariant to the scale of either row and lies in [0, 2]. Neither
    argument is detached here: callers detach what should get no gradient.

    Args:
        x, y: (N, C) tensors.
    """
    if x.shape != y.shape:
        raise ValueError(f'unit_l2_distance: shapes {tuple(x.shape)} and '
                         f'{tuple(y.shape)} differ')
    return (F.normalize(x, dim=1) - F.normalize(y, dim=1)).norm(dim=1).mean()
