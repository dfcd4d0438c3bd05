"""Importing this module registers every component of the package into
mmaction's registries (models, datasets and transforms, hooks, loops and
runners, metrics), after the compatibility fixes of
:mod:`mbcd_mmaction.compat` the pinned stack needs. Configs name it in
``custom_imports``; code calls :func:`register_all_modules`, as
mmdetection's ``mmdet.utils.register_all_modules``."""
from . import compat  # noqa: F401  (must run before mmaction.models imports)
from . import datasets, engine, evaluation, models  # noqa: F401,E402


def register_all_modules() -> None:
    """Register every component (importing this module did; idempotent)."""
