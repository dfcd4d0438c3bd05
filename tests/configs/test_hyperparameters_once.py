"""Hyperparameters are declared once: in the configs.

For every component of this package that a shipped config builds (methods,
heads, losses, modules, gradient strategies, encoders, teachers, hooks),
every argument the config sets has no default in the class signature, or
the default ``None`` (the component switched off). A value written in a
config and again as a class default could drift apart unseen; the configs
are the one place a paper's setting is read from.
"""
import glob
import inspect

import pytest
from mmaction.registry import HOOKS, MODELS
from mmengine.config import Config

CONFIGS = sorted(c for c in glob.glob('configs/*/*.py') if '/_base_/' not in c)


def _components(node, registry, found):
    """``(class, keys set)`` of every dict with a ``type`` of this
    package under ``node``."""
    if isinstance(node, dict):
        cls = registry.get(node['type']) if isinstance(
            node.get('type'), str) else None
        if cls is not None and cls.__module__.startswith('mbcd_mmaction'):
            found.setdefault(cls, set()).update(k for k in node
                                                if k != 'type')
        for value in node.values():
            _components(value, registry, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _components(value, registry, found)
    return found


def _duplicates():
    found = {}
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        _components(cfg.model.to_dict(), MODELS, found)
        _components(list(cfg.get('custom_hooks', [])), HOOKS, found)
    dups = []
    for cls, keys in found.items():
        params = {}
        for klass in cls.__mro__:  # arguments passed on through **kwargs
            if '__init__' in vars(klass):
                for name, p in inspect.signature(
                        klass.__init__).parameters.items():
                    params.setdefault(name, (klass, p))
        for key in sorted(keys):
            klass, p = params.get(key, (None, None))
            if p is not None and p.default is not inspect.Parameter.empty \
                    and p.default is not None:
                dups.append(f'{klass.__name__}({key}={p.default!r})')
    return sorted(set(dups))


@pytest.mark.slow
def test_no_config_value_is_also_a_class_default():
    dups = _duplicates()
    assert not dups, (
        f'{len(dups)} arguments set by the configs also have a class '
        f'default; remove the default (configs are authoritative): {dups}')
