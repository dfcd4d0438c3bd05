"""Strict loading of pretrained encoder weights.

mmengine's ``Pretrained`` initialiser and the mmaction backbones' own
``pretrained=`` both load with ``strict=False``: a checkpoint whose keys do
not match (the raw VGGSound ``H.pth.tar`` instead of the converted file, a
zoo file of another architecture) loads nothing and training goes on from a
random, frozen trunk. Encoders therefore load their weights here, where every
key of the target module must come from the file with the right shape and
every key of the file (under ``prefix``) must be used.
"""
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.runner.checkpoint import CheckpointLoader


class PretrainedWeightsError(RuntimeError):
    """A pretrained checkpoint is missing, unreadable or does not match."""


def _listing(keys: List[str], limit: int = 12) -> str:
    shown = ', '.join(keys[:limit])
    more = f' ... (+{len(keys) - limit} more)' if len(keys) > limit else ''
    return f'{len(keys)}: {shown}{more}'


def read_state_dict(filename: str) -> Dict[str, torch.Tensor]:
    """The state dict of a checkpoint file or URL (``state_dict`` entry of
    an mmengine checkpoint, or the file itself when it is a bare one).

    Raises:
        PretrainedWeightsError: naming ``filename`` when it cannot be read.
    """
    try:
        checkpoint = CheckpointLoader.load_checkpoint(filename,
                                                      map_location='cpu')
    except Exception as e:  # missing file, no network, corrupt file, ...
        raise PretrainedWeightsError(
            f'cannot read pretrained checkpoint {filename!r}: '
            f'{type(e).__name__}: {e}') from e
    if isinstance(checkpoint, dict) and isinstance(
            checkpoint.get('state_dict'), dict):
        checkpoint = checkpoint['state_dict']
    if not isinstance(checkpoint, dict) or not all(
            isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise PretrainedWeightsError(
            f'pretrained checkpoint {filename!r} holds no state dict of '
            'tensors (expected {name: tensor} or {"state_dict": {...}})')
    return checkpoint


def load_pretrained_strict(module: nn.Module, filename: str,
                           prefix: Optional[str] = None) -> None:
    """Loads ``filename`` into ``module``; every key must match.

    Args:
        module: The module to load (e.g. an encoder's backbone).
        filename: Local path or URL of the checkpoint.
        prefix: Keep only the file's keys starting with ``prefix`` and strip
            it (``'backbone.'`` for MMAction2 zoo files, which are whole
            recognizers with ``backbone.*`` and ``cls_head.*`` keys).
            ``None`` uses every key of the file.

    Raises:
        PretrainedWeightsError: listing the missing, unexpected and
            mis-shaped keys, before anything is copied.
    """
    state = read_state_dict(filename)
    if prefix:
        state = {k[len(prefix):]: v for k, v in state.items()
                 if k.startswith(prefix)}
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mis_shaped = sorted(
        f'{k} (file {tuple(state[k].shape)}, model '
        f'{tuple(expected[k].shape)})'
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape)
    if missing or unexpected or mis_shaped:
        under = f" under prefix {prefix!r}" if prefix else ''
        problems = [f'{name} keys {_listing(keys)}' for name, keys in (
            ('missing', missing), ('unexpected', unexpected),
            ('mis-shaped', mis_shaped)) if keys]
        raise PretrainedWeightsError(
            f'pretrained checkpoint {filename!r}{under} does not match '
            f'{type(module).__name__} ({len(expected)} keys): '
            + '; '.join(problems) + '. Is it the right file for this '
            'architecture (e.g. the converted VGGSound file from '
            'tools/convert_vggsound_resnet18.py, not the raw H.pth.tar)?')
    module.load_state_dict(state, strict=True)
