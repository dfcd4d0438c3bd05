"""Work-arounds for upstream bugs of the pinned OpenMMLab stack.

Everything here is applied once, on ``import mbcd_mmaction``, before any
``mmaction.models`` import. Each fix names the upstream bug it works around
and when it can be deleted. Nothing here changes numerical results.
"""
import collections
import os
import pickle
import re
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


#: Names ``HistoryBuffer.__getstate__`` pickles as ``getattr(HistoryBuffer,
#: name)``: its default statistics methods (mmengine 0.10.7 stores the
#: class-level ``_statistics_methods`` dict in every buffer's state).
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')


class RefusedGlobalError(pickle.UnpicklingError):
    """A checkpoint asked for a global that safe loading does not allow."""


def _history_buffer_getattr(owner, name):
    """Stand-in for ``builtins.getattr`` inside ``weights_only`` loading.

    mmengine checkpoints contain ``getattr(HistoryBuffer, 'min')`` (and
    'max', 'current', 'mean'). Allow-listing the real ``getattr`` would let a
    crafted file reach arbitrary attributes (``__globals__``, modules) of any
    allowed object, so only exactly these lookups are performed.
    """
    from mmengine.logging import HistoryBuffer
    if owner is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(owner, name)
    raise RefusedGlobalError(
        f'Refused getattr({owner!r}, {name!r}) while loading a checkpoint '
        'with weights_only=True: mbcd_mmaction.compat only allows '
        f'getattr(HistoryBuffer, one of {HISTORY_BUFFER_STATISTICS}).')


def _numpy_dtype_classes() -> list:
    types_ = (np.bool_, np.float16, np.float32, np.float64, np.longdouble,
              np.complex64, np.complex128, np.int8, np.int16, np.int32,
              np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.str_,
              np.bytes_, np.object_)
    return [type(np.dtype(t)) for t in types_]


def mmengine_checkpoint_globals() -> list:
    """The non-tensor globals mmengine 0.10.7 pickles into a checkpoint.

    Found by disassembling checkpoints that a real mmengine Runner saved
    (``tests/test_compat.py`` repeats this on every run):

    * ``message_hub.log_scalars``: :class:`mmengine.logging.HistoryBuffer`
      objects whose history is numpy arrays (``_reconstruct``, ``ndarray``,
      ``dtype`` and numpy 2's per-dtype classes such as ``Float64DType``) and
      whose state holds ``getattr(HistoryBuffer, 'min'|'max'|'current'|
      'mean')`` (served by :func:`_history_buffer_getattr`, registered
      under the names ``__builtin__.getattr`` / ``builtins.getattr``);
    * ``message_hub.runtime_info``: numpy scalars (``scalar``), e.g. ``eta``;
    * ``meta``: Python containers, the config as text, ``dataset_meta``
      (may hold numpy arrays) and sometimes a ``ConfigDict``.

    Tensors, dicts, lists, ``OrderedDict``, ``Counter`` (param schedulers),
    ``_codecs.encode`` (bytes) are allowed by torch already. Anything else
    (``os.system``, ``subprocess.*``, the real ``getattr``, ...) is refused.
    """
    from mmengine.logging import HistoryBuffer
    from mmengine.config import ConfigDict
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    return [HistoryBuffer, ConfigDict, _reconstruct, scalar, np.ndarray,
            np.dtype, *_numpy_dtype_classes(),
            (_history_buffer_getattr, '__builtin__.getattr'),
            (_history_buffer_getattr, 'builtins.getattr')]


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


_REFUSED_GLOBAL = re.compile(r'GLOBAL (\S+) (?:was not an allowed|whose)')


def pickle_globals(data: bytes) -> list:
    """``(module, name)`` of every global the pickle ``data`` names, in
    order, read from the opcodes only (nothing is unpickled). ``GLOBAL``
    carries the name; ``STACK_GLOBAL`` (pickle protocol >= 4) takes the two
    strings pushed before it, possibly fetched from the memo. A torn pickle
    gives the globals before the tear."""
    import pickletools
    found, pushed, memo = [], [], {}
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name == 'GLOBAL':
                module, _, attr = str(arg).partition(' ')
                found.append((module, attr))
            elif op.name == 'STACK_GLOBAL' and len(pushed) >= 2:
                found.append((pushed[-2], pushed[-1]))
            if op.name in ('MEMOIZE', 'PUT', 'BINPUT', 'LONG_BINPUT'):
                memo[len(memo) if op.name == 'MEMOIZE' else arg] = \
                    pushed[-1] if pushed else None
            elif op.name in ('GET', 'BINGET', 'LONG_BINGET'):
                pushed.append(memo.get(arg))
            elif isinstance(arg, str) and 'UNICODE' in op.name:
                pushed.append(arg)
            elif op.stack_after:
                pushed.append(None)
    except Exception:  # noqa: BLE001 - a torn pickle: keep what was found
        pass
    return found


def _pickled_globals(filename) -> list:
    """The globals (``module.name``) the pickle of a local ``torch.save``
    file names, in order (:func:`pickle_globals`); [] if it cannot be
    read."""
    import zipfile
    try:
        with zipfile.ZipFile(str(filename)) as z:
            name = next(n for n in z.namelist() if n.endswith('data.pkl'))
            data = z.read(name)
    except Exception:  # noqa: BLE001 - not a local zip checkpoint
        return []
    return [f'{module}.{attr}' for module, attr in pickle_globals(data)]


def _refused_globals(filename) -> list:
    """The globals of ``filename`` that safe loading does not allow."""
    from torch import _weights_only_unpickler as wo
    allowed = set(wo._get_allowed_globals()) | set(
        wo._get_user_allowed_globals())
    refused = []
    for name in _pickled_globals(filename):
        short = name[len('builtins.'):] if name.startswith('builtins.') \
            else name
        if name not in allowed and f'__builtin__.{short}' not in allowed \
                and name not in refused:
            refused.append(name)
    return refused


def explain_refused_checkpoint(filename, error: BaseException) -> str:
    """A message naming the file and the global torch refused.

    torch names the global for protocol-2 pickles (``GLOBAL``), but not
    for ``STACK_GLOBAL`` (protocol >= 4) and other refused instructions;
    the file's opcodes are then read to name it.
    """
    text = str(error)
    match = _REFUSED_GLOBAL.search(text)
    refused = [] if match else _refused_globals(filename)
    if match:
        what = f'it pickles the global `{match.group(1)}`, which is not allowed'
    elif isinstance(error, RefusedGlobalError):
        what = text
    elif refused:
        what = 'it pickles the global(s) ' + ', '.join(
            f'`{g}`' for g in refused) + ', which are not allowed'
    else:
        what = 'it uses a pickle instruction safe loading does not allow, ' \
               'on no global (torch said: ' \
               f'{text.strip().splitlines()[0][:500]})'
    return (
        f'Refused to load checkpoint {filename!r}: {what}. Checkpoints are '
        'loaded with torch.load(weights_only=True) (default since torch '
        '2.6), which only unpickles tensors, containers and the globals '
        'allow-listed in mbcd_mmaction/compat.py (what mmengine itself '
        'writes). A file that needs anything else may run arbitrary code '
        'when loaded. If you created the file yourself and trust it, add the '
        'global to mmengine_checkpoint_globals() in mbcd_mmaction/compat.py '
        'or re-save it as a plain state dict; never turn weights_only off '
        'for files from others.')


def _explain_refused_globals_in_mmengine_loading() -> None:
    """Make mmengine's checkpoint loading say which file and which global
    safe loading refused (torch's own message suggests weights_only=False
    and does not name the file), and refuse a damaged local checkpoint
    first, naming it: torch checks no checksum, and a file with zeroed
    bytes loads with wrong tensors (the sha256 file beside it, else the
    zip's CRCs: :func:`mbcd_mmaction.engine.runner.integrity.verify_checkpoint`).
    mmengine 0.10.7 does neither. When a release names the file, drop the
    explanation; the integrity check stays (mmengine checks no checksum)."""
    from mmengine.runner.checkpoint import CheckpointLoader
    if getattr(CheckpointLoader.load_checkpoint, '_mbcd_wrapped', False):
        return
    original = CheckpointLoader.load_checkpoint.__func__

    def load_checkpoint(cls, filename, map_location=None, logger='current'):
        # torch.load checks no checksum: a damaged local file is refused,
        # named, before it is read (mbcd_mmaction.engine.runner.integrity)
        from mbcd_mmaction.engine.runner.integrity import (is_local_path,
                                                           verify_checkpoint)
        if is_local_path(filename) and os.path.isfile(filename):
            verify_checkpoint(filename)
        try:
            return original(cls, filename, map_location, logger)
        except RefusedGlobalError:
            raise
        except pickle.UnpicklingError as e:
            if 'weights_only' not in str(e).lower() and \
                    'global' not in str(e).lower():
                raise
            raise RefusedGlobalError(
                explain_refused_checkpoint(filename, e)) from e

    load_checkpoint._mbcd_wrapped = True
    load_checkpoint.__doc__ = original.__doc__
    CheckpointLoader.load_checkpoint = classmethod(load_checkpoint)


def _memoize_config_formatting() -> None:
    """mmengine 0.10.7 formats the whole config with yapf each time
    ``Config.pretty_text`` is read: on every checkpoint save (the config is
    stored in ``meta``), when dumping and logging it. For the recognizer
    configs of this project that is about 5 s of CPU per call (measured: 40
    of the 57 s of a one-epoch demo run), and an iteration checkpoint every
    few steps would multiply it. The text formatted is the same on every
    call of a run, so the formatted result is cached by its input (exactly
    the output yapf gives; nothing else changes). Remove when mmengine
    caches it itself.
    """
    import mmengine.config.config as config_module
    original = config_module.FormatCode
    if getattr(original, '_mbcd_memoized', False):
        return
    cache = collections.OrderedDict()

    def format_code(text, *args, **kwargs):
        try:
            key = (text, repr(args), repr(sorted(kwargs.items())))
        except Exception:  # noqa: BLE001 - unrepresentable: do not cache
            return original(text, *args, **kwargs)
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        result = original(text, *args, **kwargs)
        cache[key] = result
        while len(cache) > 32:
            cache.popitem(last=False)
        return result

    format_code._mbcd_memoized = True
    format_code.__wrapped__ = original
    config_module.FormatCode = format_code


def apply() -> None:
    _stub_missing_drn_module()
    _memoize_config_formatting()
    _allow_mmengine_checkpoints_in_weights_only_load()
    _explain_refused_globals_in_mmengine_loading()


apply()
