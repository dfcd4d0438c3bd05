"""Command-line flags -> mmengine ``Config``, mirroring mmaction2's tools.

The flags and their merge rules follow ``mmaction2/tools/train.py`` and
``tools/test.py`` (1.x) with two deliberate differences:

* ``--seed`` / ``--deterministic`` / ``--diff-rank-seed`` always take
  effect (mmaction only applies them when the config has no ``randomness``);
* the device-dependent settings of :mod:`mbcd_mmaction.apis.device` are
  applied, so the same config trains on CPU (gloo) and GPU (NCCL).
"""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

import torch
from mmengine.config import Config

from mbcd_mmaction.datasets.protocols import apply_experiment
from mbcd_mmaction.datasets.trunk_cache import apply_trunk_cache
from mbcd_mmaction.parsers import (build_test_parser,  # noqa: F401
                                   build_train_parser)

from .device import configure_device

def _set_local_rank_env(args) -> None:
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(getattr(args, 'local_rank', 0) or 0)


def _default_work_dir(cfg: Config, args) -> None:
    # priority: CLI > work_dir in the config > work_dirs/<config name>
    if getattr(args, 'work_dir', None) is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])


def _finalise(cfg: Config, use_trunk_cache: bool = True) -> Config:
    """Steps shared by train and test, after all user overrides.

    ``use_trunk_cache=False`` keeps the live datasets of a config with
    ``trunk_cache`` (the cache builder reads them).
    """
    if cfg.get('custom_imports', None) is None:
        cfg.custom_imports = dict(
            imports=['mbcd_mmaction.registration'], allow_failed_imports=False)
    # A DG experiment names its protocol's domains at top level; plain
    # mmaction configs (no such keys) pass through untouched. MMDGRunner's
    # from_cfg does the same (idempotent) for the stock tools.
    apply_experiment(cfg)
    if use_trunk_cache:
        apply_trunk_cache(cfg)
    configure_device(cfg)
    return cfg


def run_request(args, argv: Optional[Sequence[str]] = None) -> dict:
    """What the command line asked for (recorded in the results): the
    config file, the ``--cfg-options`` as given, the seed and the resume
    flag, and the arguments themselves."""
    import sys
    return dict(config=osp.abspath(args.config),
                cfg_options=dict(getattr(args, 'cfg_options', None) or {}),
                seed=getattr(args, 'seed', None),
                resume=getattr(args, 'resume', None),
                argv=list(sys.argv[1:] if argv is None else argv))


def setup_cfg(args) -> Config:
    """Load ``args.config`` and merge the training flags into it.

    ``args`` is an ``argparse.Namespace`` from :func:`build_train_parser`
    (missing attributes take the parser's defaults).
    """
    args = _with_defaults(args, build_train_parser())
    _set_local_rank_env(args)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    _default_work_dir(cfg, args)

    if args.amp:
        if not torch.cuda.is_available():
            raise ValueError(
                '--amp needs a CUDA device (mmengine\'s AmpOptimWrapper '
                'supports GPU/NPU/MLU only); none is available here')
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError('--amp does not support the custom optimizer '
                             f'wrapper type {optim_wrapper!r}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    randomness = dict(cfg.get('randomness', None) or {})
    if args.seed is not None:
        randomness['seed'] = args.seed
    if args.deterministic:
        randomness['deterministic'] = True
    if args.diff_rank_seed:
        randomness['diff_rank_seed'] = True
    # mmengine's Runner.set_randomness needs `seed` (None: a random one, as
    # mmengine's own default for configs without `randomness`).
    randomness.setdefault('seed', None)
    cfg.randomness = randomness

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.auto_scale_lr:
        if cfg.get('auto_scale_lr', None) is None:
            raise ValueError('--auto-scale-lr needs `auto_scale_lr = dict('
                             'base_batch_size=...)` in the config')
        cfg.auto_scale_lr.enable = True
    return _finalise(cfg)


def setup_test_cfg(args) -> Config:
    """Load ``args.config`` and merge the test flags (see
    :func:`build_test_parser`) into it; ``cfg.load_from`` is the
    checkpoint."""
    args = _with_defaults(args, build_test_parser())
    _set_local_rank_env(args)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError('--dump must be a .pkl or .pickle file')
        dump_metric = dict(type='DumpResults', out_file_path=args.dump)
        if isinstance(cfg.test_evaluator, (list, tuple)):
            cfg.test_evaluator = [*cfg.test_evaluator, dump_metric]
        else:
            cfg.test_evaluator = [cfg.test_evaluator, dump_metric]
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    _default_work_dir(cfg, args)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    return _finalise(cfg)


def _with_defaults(args, parser: argparse.ArgumentParser):
    """Fill attributes ``args`` lacks with ``parser``'s defaults."""
    if isinstance(args, Sequence) and not isinstance(args, str):
        return parser.parse_args(list(args))
    defaults = {a.dest: a.default for a in parser._actions
                if a.dest != 'help'}
    merged = {**defaults, **vars(args)}
    return argparse.Namespace(**merged)


def config_name(cfg: Config) -> Optional[str]:
    """The config file's name without extension (None if built in code)."""
    filename = getattr(cfg, 'filename', None)
    if not filename:
        return None
    return osp.splitext(osp.basename(filename))[0]


def load_cfg(config: str, cfg_options: Optional[dict] = None,
             use_trunk_cache: bool = True) -> Config:
    """A config with ``cfg_options`` merged and the protocol, trunk cache
    (unless ``use_trunk_cache=False``) and device settings applied, as
    the training tools see it (without their command-line flags)."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return _finalise(cfg, use_trunk_cache)
