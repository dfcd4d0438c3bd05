"""SimMMDG's cross-modal translation, with MOOSA's masking."""
from typing import Mapping

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule, ModuleDict

from ..losses.functional import unit_l2_distance


def translator_key(source: str, target: str) -> str:
    """Name of the ``source -> target`` translator in the ModuleDict."""
    return f'{source}_to_{target}'


@MODELS.register_module()
class CrossModalTranslation(BaseModule):
    """One MLP per directed modality pair and the translation loss.

    Each translator is the authors' ``EncoderTrans``:
    ``Linear(d_s,H)-ReLU-Linear(H,H)-ReLU-Dropout(0.5)-Linear(H,d_t)`` on the
    full source feature. The loss is the mean over directed pairs of
    ``mean_i ||u(T_st(e_s,i)) - u(e_t,i)||_2`` (L2 distance of unit
    vectors, not squared). Neither side is detached: the target feature
    gets a gradient too, as in SimMMDG.

    MOOSA's masked translation (``mask_ratio > 0``): each element of a
    source feature is zeroed with probability ``mask_ratio`` (no rescaling),
    one mask per source modality shared by its outgoing translations; the
    target stays unmasked. ``mask_ratio = 0`` is SimMMDG's loss (and draws
    no random numbers).

    Args:
        feat_dims (Mapping[str, int]): Feature size by modality.
        hidden_channels (int): ``H`` (``trans_hidden_num``, 2048).
        mask_ratio (float): 0.0 in SimMMDG, 0.3 in MOOSA.
        loss_weight (float): The methods use 0.1 (``alpha_trans``).
        dropout_ratio (float): 0.5 in the authors' code.
    """

    def __init__(self, feat_dims: Mapping[str, int], hidden_channels: int,
                 mask_ratio: float, loss_weight: float, dropout_ratio: float,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(feat_dims) < 2:
            raise ValueError('CrossModalTranslation needs at least two '
                             f'modalities, got {dict(feat_dims)}')
        if not 0.0 <= mask_ratio < 1.0:
            raise ValueError(f'mask_ratio must be in [0, 1), got '
                             f'{mask_ratio}')
        self.modalities = tuple(feat_dims)
        self.mask_ratio = mask_ratio
        self.loss_weight = loss_weight
        self.translators = ModuleDict({
            translator_key(s, t): nn.Sequential(
                nn.Linear(feat_dims[s], hidden_channels), nn.ReLU(),
                nn.Linear(hidden_channels, hidden_channels), nn.ReLU(),
                nn.Dropout(dropout_ratio),
                nn.Linear(hidden_channels, feat_dims[t]))
            for s in feat_dims for t in feat_dims if s != t})

    def mask(self, feat: torch.Tensor) -> torch.Tensor:
        """``feat`` with each element zeroed with probability
        ``mask_ratio``."""
        if self.mask_ratio == 0:
            return feat
        return feat.masked_fill(torch.rand_like(feat) < self.mask_ratio, 0)

    def forward(self, feats: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Args: feats: ``{modality: (N, d_k)}``. Returns: scalar loss."""
        if set(feats) != set(self.modalities):
            raise ValueError(f'CrossModalTranslation was built for '
                             f'{self.modalities}, got {tuple(feats)}')
        sources = {m: self.mask(f) for m, f in feats.items()}
        losses = [unit_l2_distance(
            self.translators[translator_key(s, t)](sources[s]), feats[t])
            for s in self.modalities for t in self.modalities if s != t]
        return self.loss_weight * sum(losses) / len(losses)
