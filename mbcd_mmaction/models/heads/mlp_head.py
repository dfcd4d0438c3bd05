"""Classification heads on pooled features: the SimMMDG MLP head and a
linear head."""
import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import BaseModule


@MODELS.register_module()
class MLPClsHead(BaseModule):
    """``Linear(in, hidden) - ReLU - Dropout - Linear(hidden, num_classes)``.

    Args:
        in_channels (int): Feature size.
        num_classes (int): Number of classes.
        hidden_channels (int): Hidden width (512 in the configs).
        dropout_ratio (float): Dropout before the last layer (0.5).
    """

    def __init__(self, in_channels: int, num_classes: int,
                 hidden_channels: int, dropout_ratio: float,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.layers = nn.Sequential(
            nn.Linear(in_channels, hidden_channels), nn.ReLU(inplace=True),
            nn.Dropout(dropout_ratio), nn.Linear(hidden_channels, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_channels) -> logits (N, num_classes)."""
        return self.layers(x)


@MODELS.register_module()
class LinearClsHead(BaseModule):
    """One ``Linear(in, num_classes)``: the uni-modal heads of the SimMMDG
    family (mmaction's ``fc_cls`` / the audio ``fc``), with PyTorch's
    default initialisation.

    Args:
        in_channels (int): Feature size.
        num_classes (int): Number of classes.
    """

    def __init__(self, in_channels: int, num_classes: int,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.fc = nn.Linear(in_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, in_channels) -> logits (N, num_classes)."""
        return self.fc(x)
