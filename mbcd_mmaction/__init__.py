"""mbcd_mmaction: multi-modal domain generalisation for MMAction2 1.x.

The package root imports nothing heavy: ``mbcd_mmaction.experiments`` (the
grid, sweeps, tables) and the tools built on it run without torch or
mmaction. Components are registered into mmaction's registries by
importing :mod:`mbcd_mmaction.registration` (configs:
``custom_imports = dict(imports=['mbcd_mmaction.registration'])``, already
in ``configs/_base_/mmdg_runtime.py``; code:
``mbcd_mmaction.registration.register_all_modules()``).
"""
__version__ = '0.1.0'
