"""mbcd_mmaction: multi-modal domain generalisation for MMAction2 1.x.

The package root imports nothing heavy: ``mbcd_mmaction.experiments`` (the
grid, sweeps, tables) and the tools built on it run without torch or
mmaction. Components are registered into mmaction's registries by
importing :mod:`mbcd_mmaction.registration` (configs:
``custom_imports = dict(imports=['mbcd_mmaction.registration'])``, already
in ``configs/_base_/mmdg_runtime.py``; code:
``mbcd_mmaction.registration.register_all_modules()``).
"""
import warnings

__version__ = '0.1.0'

# Upstream packaging notices printed on every import of mmengine / mmcv-lite,
# about parts this package never uses (mmengine's pkg_resources-based
# package lookup; mmcv's compiled deformable attention): silenced by their
# exact text, so any other warning still shows.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated',
                        category=UserWarning)
warnings.filterwarnings('ignore', message='Fail to import '
                        '``MultiScaleDeformableAttention``',
                        category=UserWarning)
