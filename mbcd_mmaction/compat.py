"""Work-arounds for upstream bugs of the pinned OpenMMLab stack.

Everything here is applied once, on ``import mbcd_mmaction``, before any
``mmaction.models`` import. Each fix names the upstream bug it works around
and when it can be deleted. Nothing here changes numerical results.
"""
import sys
import types

import numpy as np
import torch


def _stub_missing_drn_module() -> None:
    """mmaction2 1.2.0 wheel/sdist lacks ``mmaction/models/localizers/drn``.

    Upstream ``mmaction/models/localizers/__init__.py`` does
    ``from .drn.drn import DRN`` but ``drn/`` has no ``__init__.py``, so
    packaging skipped it and every ``import mmaction.models`` fails.
    We register an importable stand-in whose ``DRN`` raises when used (DRN is
    a temporal-grounding localizer this project never builds).
    Remove when an mmaction2 release ships ``drn/`` (fixed on upstream main
    after 1.2.0).
    """
    name = 'mmaction.models.localizers.drn'
    if name + '.drn' in sys.modules:
        return
    try:  # a fixed mmaction release: nothing to do
        import importlib.util
        if importlib.util.find_spec('mmaction.models.localizers.drn.drn'):
            return
    except ModuleNotFoundError:
        pass

    class DRN:  # noqa: D401 - stand-in
        """Stand-in for mmaction's missing DRN localizer."""

        def __init__(self, *args, **kwargs):
            raise ImportError(
                'mmaction2 1.2.0 ships without mmaction/models/localizers/drn;'
                ' DRN is unavailable (mbcd_mmaction.compat).')

    package = types.ModuleType(name)
    package.__path__ = []
    module = types.ModuleType(name + '.drn')
    module.DRN = DRN
    package.drn = module
    sys.modules[name] = package
    sys.modules[name + '.drn'] = module


def mmengine_checkpoint_globals() -> list:
    """The non-tensor globals mmengine 0.10.7 pickles into a checkpoint.

    ``message_hub`` holds :class:`mmengine.logging.HistoryBuffer` objects
    whose history is numpy arrays and numpy scalars; ``meta`` holds plain
    Python containers. Everything else in a checkpoint is tensors and dicts,
    which ``weights_only`` loading accepts already.
    """
    from mmengine.logging import HistoryBuffer
    from mmengine.config import ConfigDict
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in (
        np.float16, np.float32, np.float64, np.int8, np.int16, np.int32,
        np.int64, np.uint8, np.bool_)]
    return [HistoryBuffer, ConfigDict, _reconstruct, scalar, np.ndarray,
            np.dtype, *dtype_classes]


def _allow_mmengine_checkpoints_in_weights_only_load() -> None:
    """mmengine 0.10.7 calls ``torch.load`` without ``weights_only``.

    torch >= 2.6 defaults to ``weights_only=True``, which refuses the
    ``HistoryBuffer`` and numpy objects mmengine itself writes, so ``--resume``
    and ``load_from`` fail ("Weights only load failed"). Instead of turning
    safe loading off, we allow-list exactly those globals; a checkpoint with
    any other pickled global is still refused by torch.
    Remove when an mmengine release after 0.10.7 passes ``weights_only``.
    """
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(mmengine_checkpoint_globals())


def apply() -> None:
    _stub_missing_drn_module()
    _allow_mmengine_checkpoints_in_weights_only_load()


apply()
