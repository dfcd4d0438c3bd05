"""Contrastive projection head of SimMMDG, MOOSA and CMRF."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule


@MODELS.register_module()
class ProjectionHead(BaseModule):
    """``Linear-BN-ReLU-Linear-BN-ReLU-Linear``, then L2 normalisation.

    The authors' ``ProjectHead`` (``--hidden_dim 2048 --out_dim 128``).
    SimMMDG and MOOSA project each modality's shared half, CMRF the full
    feature.

    Args:
        in_channels (int): Input size.
        hidden_channels (int): 2048 in the authors' code.
        out_channels (int): 128 in the authors' code.
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 out_channels: int, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.layers = nn.Sequential(
            nn.Linear(in_channels, hidden_channels),
            nn.BatchNorm1d(hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, hidden_channels),
            nn.BatchNorm1d(hidden_channels), nn.ReLU(inplace=True),
            nn.Linear(hidden_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_channels) -> unit rows (N, out_channels)."""
        return F.normalize(self.layers(x), dim=1)
