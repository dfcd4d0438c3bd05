"""VGGSound ResNet-18 (audio) checkpoint -> mmaction ``ResNet`` state dict.

The VGGSound audio classifier (github hche11/VGGSound, file ``H.pth.tar``;
SimMMDG renames it ``vggsound_avgpool.pth.tar``) is saved as
``{'model_state_dict': AVENet.state_dict(), ...}``. ``AVENet`` holds a
torchvision-style ResNet-18 as ``audnet`` with a 1-channel 7x7 ``conv1`` and
``fc`` = Linear(512, 309). Its keys are therefore::

    audnet.conv1.weight                     [64, 1, 7, 7]
    audnet.bn1.{weight,bias,running_mean,running_var,num_batches_tracked}
    audnet.layer{1-4}.{0,1}.conv{1,2}.weight
    audnet.layer{1-4}.{0,1}.bn{1,2}.*
    audnet.layer{2-4}.0.downsample.0.weight   (1x1 conv)
    audnet.layer{2-4}.0.downsample.1.*        (BN)
    audnet.fc.{weight,bias}                 [309, 512], [309]

(``module.`` may precede them if a copy was saved from ``DataParallel``.)
mmaction's 2D ``ResNet(depth=18, in_channels=1)`` wraps each conv+BN in a
``ConvModule``: ``conv1.conv.weight``, ``conv1.bn.*``,
``layerX.Y.conv1.conv.weight``, ``layerX.Y.conv1.bn.*``,
``layerX.Y.downsample.conv.weight``, ``layerX.Y.downsample.bn.*``.
"""
import re
from collections import OrderedDict
from typing import Mapping

import torch

_BN_PARAMS = ('weight', 'bias', 'running_mean', 'running_var',
              'num_batches_tracked')
_PREFIXES = ('module.', 'audnet.')

_RULES = [
    (re.compile(r'^conv1\.weight$'), 'conv1.conv.weight'),
    (re.compile(r'^bn1\.(\w+)$'), r'conv1.bn.\1'),
    (re.compile(r'^(layer[1-4]\.\d+)\.conv([12])\.weight$'),
     r'\1.conv\2.conv.weight'),
    (re.compile(r'^(layer[1-4]\.\d+)\.bn([12])\.(\w+)$'), r'\1.conv\2.bn.\3'),
    (re.compile(r'^(layer[1-4]\.\d+)\.downsample\.0\.weight$'),
     r'\1.downsample.conv.weight'),
    (re.compile(r'^(layer[1-4]\.\d+)\.downsample\.1\.(\w+)$'),
     r'\1.downsample.bn.\2'),
]
_DROPPED = re.compile(r'^(fc|fc_)\.(weight|bias)$')


class VGGSoundConversionError(ValueError):
    """The input is not a VGGSound ResNet-18 checkpoint."""


def _unwrap(ckpt: Mapping) -> Mapping:
    if not isinstance(ckpt, Mapping):
        raise VGGSoundConversionError(
            f'expected a dict checkpoint, got {type(ckpt).__name__}')
    for key in ('model_state_dict', 'state_dict', 'model'):
        if key in ckpt and isinstance(ckpt[key], Mapping):
            return ckpt[key]
    return ckpt


def _strip(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix):], True
    return key


def _reference_shapes() -> 'OrderedDict[str, torch.Size]':
    """Key -> shape of mmaction's ``ResNet(depth=18, in_channels=1)``."""
    from mmaction.models.backbones import ResNet
    model = ResNet(depth=18, in_channels=1, pretrained=None)
    return OrderedDict((k, v.shape) for k, v in model.state_dict().items())


def convert_vggsound_state_dict(ckpt: Mapping) -> 'OrderedDict[str, torch.Tensor]':
    """Convert a loaded VGGSound ``H.pth.tar`` (or its ``model_state_dict``,
    with or without ``audnet.``/``module.`` prefixes) to the state dict of
    mmaction's ``ResNet(depth=18, in_channels=1)``; the 309-class ``fc`` is
    dropped. Raises :class:`VGGSoundConversionError` listing unexpected,
    missing and mis-shaped keys."""
    state = _unwrap(ckpt)
    out = OrderedDict()
    unexpected = []
    for key, value in state.items():
        name = _strip(key)
        if _DROPPED.match(name):
            continue
        for pattern, repl in _RULES:
            if pattern.match(name):
                out[pattern.sub(repl, name)] = value
                break
        else:
            unexpected.append(key)

    reference = _reference_shapes()
    # checkpoints from torch < 0.4.1 have no BN num_batches_tracked
    for key in reference:
        if key.endswith('num_batches_tracked') and key not in out:
            out[key] = torch.tensor(0, dtype=torch.long)
    missing = [k for k in reference if k not in out]
    unexpected += [k for k in out if k not in reference]
    wrong_shape = [f'{k}: {tuple(out[k].shape)} != {tuple(s)}'
                   for k, s in reference.items()
                   if k in out and tuple(out[k].shape) != tuple(s)]
    if unexpected or missing or wrong_shape:
        raise VGGSoundConversionError(
            'not a VGGSound ResNet-18 (audnet) checkpoint:'
            f'\n  unexpected keys ({len(unexpected)}): {unexpected[:20]}'
            f'\n  missing keys ({len(missing)}): {missing[:20]}'
            f'\n  wrong shapes ({len(wrong_shape)}): {wrong_shape[:20]}')
    return OrderedDict((k, out[k]) for k in reference)
