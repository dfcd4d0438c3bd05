"""MMAction2 backbones split into a frozen trunk and trainable top stages.

The SimMMDG protocol (docs/methods.md) trains only the last residual stage of each
encoder. The trunk (stem .. the last frozen stage) therefore runs once per
iteration without gradients and with BatchNorm in eval mode; its output is
reused by every forward that needs it (student, gradient-consistency
look-ahead, EMA teacher).

The top stages stay registered inside the mmaction backbone, so pretrained
checkpoints of the MMAction2 model zoo load unchanged and state-dict keys do
not depend on the split. :meth:`FrozenTrunkEncoder.top_layers` returns them
by name; :meth:`FrozenTrunkEncoder.forward_top` runs any mapping with the same
names (the student's layers, the EMA teacher's copies, or look-ahead
callables with substituted parameters).
"""
from typing import Callable, Dict, Mapping, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule

from .pretrained import load_pretrained_strict

TopLayers = Mapping[str, Callable[[torch.Tensor], torch.Tensor]]


class FrozenTrunkEncoder(BaseModule):
    """Base class: an mmaction backbone whose last ``trainable_stages`` stages
    are trained and everything before them is frozen.

    Args:
        backbone (dict): Config of the mmaction backbone.
        trainable_stages (int): How many of the last residual stages train.
            The paper trains one (layer4).
        pretrained (str, optional): Checkpoint path or URL loaded into the
            backbone by :meth:`init_weights`, strictly: every backbone key
            must be in the file with its shape and every file key (under
            ``pretrained_prefix``) must be used, else
            :class:`PretrainedWeightsError` names the file and the keys.
            Defaults to None (random initialisation).
        pretrained_prefix (str, optional): Only the file's keys with this
            prefix are loaded, with the prefix stripped: ``'backbone.'``
            for MMAction2 model-zoo files (whole recognizers). Defaults to
            None (the file holds bare backbone keys).
        init_cfg (dict, optional): Passed to :class:`BaseModule`; a
            ``Pretrained`` entry is refused (mmengine loads it with
            ``strict=False``): use ``pretrained``.
    """

    def __init__(self,
                 backbone: dict,
                 trainable_stages: int,
                 pretrained: Optional[str] = None,
                 pretrained_prefix: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        # Non-strict loaders would silently leave a random trunk behind.
        init_types = [c.get('type') for c in (
            init_cfg if isinstance(init_cfg, list) else [init_cfg] if
            init_cfg else [])]
        if 'Pretrained' in init_types:
            raise ValueError(
                f'{type(self).__name__}: init_cfg type Pretrained loads '
                'with strict=False; set the encoder\'s pretrained=<file> '
                "(and pretrained_prefix='backbone.' for a zoo recognizer "
                'file) instead')
        if backbone.get('pretrained'):
            raise ValueError(
                f'{type(self).__name__}: backbone.pretrained='
                f'{backbone["pretrained"]!r} loads with strict=False; move '
                'it to the encoder: pretrained=<file>')
        super().__init__(init_cfg=init_cfg)
        self.pretrained = pretrained
        self.pretrained_prefix = pretrained_prefix
        self.backbone = MODELS.build(backbone)
        num_stages = len(self._stage_names())
        if not 0 <= trainable_stages <= num_stages:
            raise ValueError(
                f'trainable_stages must be in [0, {num_stages}] for '
                f'{backbone["type"]}, got {trainable_stages}')
        self.trainable_stages = trainable_stages
        self.backbone.requires_grad_(False)
        for layer in self.top_layers().values():
            layer.requires_grad_(True)
        # Modules are built in training mode; freeze BN statistics now, not
        # only when .train() is next called.
        self.train(self.training)

    # -- what subclasses describe -------------------------------------------
    def _stage_names(self) -> Tuple[str, ...]:
        """Names of the residual stages, in order."""
        raise NotImplementedError

    def _run_trunk(self, x: torch.Tensor):
        raise NotImplementedError

    def _run_top(self, layers: TopLayers, x) -> torch.Tensor:
        """Runs the top stages and pools to a (N, feat_dim) feature."""
        raise NotImplementedError

    @property
    def feat_dim(self) -> int:
        """Channels of the pooled feature."""
        raise NotImplementedError

    def top_layers(self) -> Dict[str, nn.Module]:
        """The trainable modules by name (references into the backbone)."""
        raise NotImplementedError

    # -- shared behaviour ----------------------------------------------------
    def init_weights(self) -> None:
        """The backbone's own initialisation, then the pretrained file."""
        super().init_weights()
        if self.pretrained:
            load_pretrained_strict(self.backbone, self.pretrained,
                                   self.pretrained_prefix)

    @property
    def top_stage_names(self) -> Tuple[str, ...]:
        names = self._stage_names()
        return names[len(names) - self.trainable_stages:]

    def forward_trunk(self, x: torch.Tensor):
        """Frozen part; no autograd graph is recorded."""
        with torch.no_grad():
            return self._run_trunk(x)

    def forward_top(self, trunk_out,
                    layers: Optional[TopLayers] = None) -> torch.Tensor:
        """Trainable part, with ``layers`` standing in for the top stages.

        Args:
            trunk_out: Output of :meth:`forward_trunk`.
            layers: Mapping with the keys of :meth:`top_layers`; defaults to
                the encoder's own layers.

        Returns:
            Tensor: Pooled features of shape (N, feat_dim).
        """
        return self._run_top(self.top_layers() if layers is None else layers,
                             trunk_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_top(self.forward_trunk(x))

    def train(self, mode: bool = True) -> 'FrozenTrunkEncoder':
        """Frozen stages always run in eval mode (BN statistics frozen)."""
        super().train(mode)
        self.backbone.eval()
        for layer in self.top_layers().values():
            layer.train(mode)
        return self


def _pool(x: torch.Tensor) -> torch.Tensor:
    return torch.flatten(F.adaptive_avg_pool3d(x, 1) if x.dim() == 5 else
                         F.adaptive_avg_pool2d(x, 1), 1)


@MODELS.register_module()
class ResNetEncoder(FrozenTrunkEncoder):
    """Frozen-trunk wrapper of mmaction's ``ResNet`` (2D, e.g. the audio
    ResNet-18 on spectrograms) and ``ResNet3d``/``ResNet3dSlowOnly`` (e.g.
    the flow SlowOnly R50 with 2 input channels).

    A 4-D input ``(N, C, H, W)`` (a spectrogram) to a 3D backbone is given a
    temporal axis of length 1: with ``inflate=(0, 0, 0, 0)`` and a
    ``(1, k, k)`` stem that is a 2D ResNet, and unlike mmaction's 2D
    ``ResNet`` it has a width option (``base_channels``; the demo configs'
    narrow audio encoder)."""

    def _stage_names(self) -> Tuple[str, ...]:
        return tuple(self.backbone.res_layers)

    def top_layers(self) -> Dict[str, nn.Module]:
        return {name: getattr(self.backbone, name)
                for name in self.top_stage_names}

    def _run_stages(self, layers, x, names):
        for name in names:
            x = layers[name](x)
            # ResNet3d's optional pool2 follows the first stage.
            if (name == self.backbone.res_layers[0]
                    and getattr(self.backbone, 'with_pool2', False)):
                x = self.backbone.pool2(x)
        return x

    def _run_trunk(self, x: torch.Tensor) -> torch.Tensor:
        backbone = self.backbone
        if x.dim() == 4 and isinstance(backbone.conv1.conv, nn.Conv3d):
            x = x.unsqueeze(2)
        x = backbone.conv1(x)
        if getattr(backbone, 'with_pool1', True):
            x = backbone.maxpool(x)
        trunk = self._stage_names()[:-self.trainable_stages or None]
        return self._run_stages(
            {n: getattr(backbone, n) for n in trunk}, x, trunk)

    def _run_top(self, layers, x) -> torch.Tensor:
        return _pool(self._run_stages(layers, x, self.top_stage_names))

    @property
    def feat_dim(self) -> int:
        return self.backbone.feat_dim


@MODELS.register_module()
class SlowFastEncoder(FrozenTrunkEncoder):
    """Frozen-trunk wrapper of mmaction's ``ResNet3dSlowFast``.

    The pooled feature is the concatenation of the slow and fast pathways'
    pooled features (2048 + 256 = 2304 for SlowFast R101 8x8). A lateral
    connection that feeds a top stage is trained with it.
    """

    def _stage_names(self) -> Tuple[str, ...]:
        return tuple(self.backbone.slow_path.res_layers)

    def _lateral_name(self, stage_index: int) -> Optional[str]:
        slow = self.backbone.slow_path
        if not slow.lateral or stage_index >= len(slow.res_layers) - 1:
            return None
        return slow.lateral_connections[stage_index]

    def top_layers(self) -> Dict[str, nn.Module]:
        slow, fast = self.backbone.slow_path, self.backbone.fast_path
        names = self._stage_names()
        first_top = len(names) - self.trainable_stages
        layers = {}
        for i in range(first_top, len(names)):
            layers[f'slow_{names[i]}'] = getattr(slow, names[i])
            layers[f'fast_{names[i]}'] = getattr(fast, names[i])
            lateral = self._lateral_name(i)
            if lateral is not None:
                layers[f'slow_{lateral}'] = getattr(slow, lateral)
        return layers

    def _run_stages(self, layers, x_slow, x_fast, indices):
        names = self._stage_names()
        for i in indices:
            x_slow = layers[f'slow_{names[i]}'](x_slow)
            x_fast = layers[f'fast_{names[i]}'](x_fast)
            lateral = self._lateral_name(i)
            if lateral is not None:
                x_slow = torch.cat(
                    (x_slow, layers[f'slow_{lateral}'](x_fast)), dim=1)
        return x_slow, x_fast

    def _run_trunk(self, x: torch.Tensor):
        # Mirrors ResNet3dSlowFast.forward up to the first trainable stage.
        bb = self.backbone
        x_slow = F.interpolate(
            x, mode='nearest', scale_factor=(1.0 / bb.resample_rate, 1., 1.))
        x_slow = bb.slow_path.maxpool(bb.slow_path.conv1(x_slow))
        x_fast = F.interpolate(
            x, mode='nearest',
            scale_factor=(1.0 / (bb.resample_rate // bb.speed_ratio), 1., 1.))
        x_fast = bb.fast_path.maxpool(bb.fast_path.conv1(x_fast))
        if bb.slow_path.lateral:
            x_slow = torch.cat(
                (x_slow, bb.slow_path.conv1_lateral(x_fast)), dim=1)
        names = self._stage_names()
        first_top = len(names) - self.trainable_stages
        trunk_layers = {}
        for i in range(first_top):
            trunk_layers[f'slow_{names[i]}'] = getattr(bb.slow_path, names[i])
            trunk_layers[f'fast_{names[i]}'] = getattr(bb.fast_path, names[i])
            lateral = self._lateral_name(i)
            if lateral is not None:
                trunk_layers[f'slow_{lateral}'] = getattr(
                    bb.slow_path, lateral)
        return self._run_stages(trunk_layers, x_slow, x_fast,
                                range(first_top))

    def _run_top(self, layers, trunk_out) -> torch.Tensor:
        names = self._stage_names()
        x_slow, x_fast = self._run_stages(
            layers, *trunk_out, range(len(names) - self.trainable_stages,
                                      len(names)))
        return torch.cat((_pool(x_slow), _pool(x_fast)), dim=1)

    @property
    def feat_dim(self) -> int:
        bb = self.backbone
        return bb.slow_path.feat_dim + bb.fast_path.feat_dim
