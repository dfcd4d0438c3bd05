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
import sys
from typing import Optional, Sequence

import torch
from mmengine.config import Config

from mbcd_mmaction.datasets.protocols import apply_experiment, did_you_mean
from mbcd_mmaction.datasets.trunk_cache import apply_trunk_cache
from mbcd_mmaction.parsers import (VIS_BACKENDS,  # noqa: F401
                                   build_test_parser, build_train_parser)

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


#: what each launcher reads from the environment (mmengine's init_dist)
LAUNCHER_ENV = {
    'pytorch': (('RANK', 'WORLD_SIZE', 'LOCAL_RANK'),
                'start it with torchrun (tools/dist_train.sh CONFIG N)'),
    'slurm': (('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'),
              'start it inside a Slurm allocation with srun'),
    'mpi': (('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE'),
            'start it with mpirun'),
}


def check_launcher(launcher: Optional[str]) -> None:
    """A clear error when ``--launcher`` names a launcher whose
    environment is missing (mmengine otherwise fails with e.g.
    ``KeyError: 'SLURM_PROCID'``)."""
    if launcher in (None, 'none'):
        return
    if launcher not in LAUNCHER_ENV:
        raise ValueError(f'--launcher {launcher!r}: expected one of '
                         f"{['none', *LAUNCHER_ENV]}")
    names, how = LAUNCHER_ENV[launcher]
    missing = [n for n in names if n not in os.environ]
    if missing:
        raise RuntimeError(
            f'--launcher {launcher} needs the environment variables '
            f'{list(names)}, and {missing} are not set: {how}, or drop '
            '--launcher for a single process.')


def check_model_type(cfg: Config) -> None:
    """``model.type`` must be registered (in the config's default scope):
    the error lists the registered methods with a did-you-mean instead of
    the registry's bare KeyError."""
    model = cfg.get('model', None)
    model_type = model.get('type', None) if isinstance(model, dict) else None
    if not isinstance(model_type, str):
        return
    teacher = model.get('teacher', None)
    if isinstance(teacher, dict) and 'type' not in teacher:
        # --cfg-options model.teacher.X=... on a model without a teacher
        # creates a dict with no type (mmengine's KeyError then embeds the
        # whole model config)
        raise KeyError(
            f'model.teacher.{sorted(teacher)[0]} is set, but this config\'s '
            f'model ({model_type}) has no teacher (model.teacher is None), '
            'so there is nothing to set. The methods with an averaged '
            'teacher are EMA, MBCD and CMRF (configs/ema, configs/mbcd, '
            'configs/cmrf).')
    from mmengine.registry import MODELS
    scope = cfg.get('default_scope', None)
    with MODELS.switch_scope_and_registry(scope) as registry:
        if registry.get(model_type) is not None:
            return
        names = names_of(registry)
    methods = sorted(n for n, c in names.items()
                     if c.__module__.startswith('mbcd_mmaction.models.'
                                                'methods'))
    raise KeyError(
        f'model.type={model_type!r} is not a registered model of scope '
        f'{scope or "mmengine"!r}{did_you_mean(model_type, names)} The '
        f'methods of this package: {methods}.')


def names_of(registry) -> dict:
    """``{name: class}`` of a registry and its ancestors."""
    found = {}
    while registry is not None:
        for name, cls in registry.module_dict.items():
            found.setdefault(name, cls)
        registry = registry.parent
    return found


def check_loop_keys(cfg: Config) -> None:
    """``train_cfg`` / ``val_cfg`` / ``test_cfg`` keys the loop does not
    take are an error naming the key and the accepted ones (the loop
    would fail with a bare TypeError)."""
    import inspect

    from mmengine.registry import LOOPS
    from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
    scope = cfg.get('default_scope', None)
    for key in ('train_cfg', 'val_cfg', 'test_cfg'):
        loop = cfg.get(key, None)
        if not isinstance(loop, dict) or not loop:
            continue
        loop_type = loop.get('type', None)
        if loop_type is None:
            if key != 'train_cfg':
                continue
            cls = EpochBasedTrainLoop if loop.get('by_epoch', True) else \
                IterBasedTrainLoop
        elif isinstance(loop_type, str):
            with LOOPS.switch_scope_and_registry(scope) as registry:
                cls = registry.get(loop_type)
        else:
            cls = loop_type
        if cls is None:
            continue
        params = inspect.signature(cls.__init__).parameters
        if any(p.kind == p.VAR_KEYWORD for p in params.values()):
            continue
        accepted = {n for n in params if n not in (
            'self', 'runner', 'dataloader', 'evaluator')} | {'type'}
        if loop_type is None:
            accepted.add('by_epoch')
        unknown = sorted(k for k in set(loop) - accepted
                         if not k.startswith('_'))  # e.g. mmengine's _scope_
        if unknown:
            raise TypeError(
                f'{key}.{unknown[0]}: {cls.__name__} takes no such '
                f'argument{did_you_mean(unknown[0], accepted)} Accepted: '
                f'{sorted(accepted)}.')


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
    check_model_type(cfg)
    check_loop_keys(cfg)
    if use_trunk_cache:
        apply_trunk_cache(cfg)
    configure_device(cfg)
    return cfg


def run_request(args, argv: Optional[Sequence[str]] = None) -> dict:
    """What the command line asked for (recorded in the results): the
    config file, the ``--cfg-options`` as given, the seed and the resume
    flag, and the arguments themselves."""
    return dict(config=osp.abspath(args.config),
                cfg_options=dict(getattr(args, 'cfg_options', None) or {}),
                seed=getattr(args, 'seed', None),
                resume=getattr(args, 'resume', None),
                argv=list(sys.argv[1:] if argv is None else argv))


def _add_vis_backends(cfg: Config, names: Sequence[str]) -> None:
    """Append the ``--vis`` backends to ``cfg.visualizer.vis_backends``;
    a backend whose package is missing is an error saying what to install
    (mmengine would fail at the first log line)."""
    import importlib.util
    for name in names or ():
        backend, module, extra = VIS_BACKENDS[name]
        if importlib.util.find_spec(module) is None:
            raise ModuleNotFoundError(
                f'--vis {name} needs the {module} package: pip install -e '
                f'".[{extra}]" (or pip install {module}).')
        visualizer = cfg.get('visualizer', None)
        if visualizer is None:
            raise KeyError(f'--vis {name}: the config has no `visualizer` '
                           'to add the backend to.')
        backends = list(visualizer.get('vis_backends', None) or [])
        if not any(b.get('type') == backend for b in backends):
            backends.append(dict(type=backend))
        visualizer['vis_backends'] = backends


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
    _add_vis_backends(cfg, args.vis)
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
