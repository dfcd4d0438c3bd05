"""Command-line parsers of ``tools/train.py`` and ``tools/test.py``
(mirroring mmaction2's tools). Light: argparse and mmengine's config
parsing only, so ``--help`` answers without importing torch."""
import argparse

from mmengine.config import DictAction

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')
#: ``--vis`` name -> (mmengine vis backend, the module it needs, extra)
VIS_BACKENDS = {'tensorboard': ('TensorboardVisBackend', 'tensorboard', 'tb'),
                'wandb': ('WandbVisBackend', 'wandb', 'wandb')}


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value pairs '
        '(e.g. target_domain=D2 train_dataloader.batch_size=8)')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def build_train_parser() -> argparse.ArgumentParser:
    """Argument parser of ``tools/train.py``."""
    parser = argparse.ArgumentParser(
        description='Train a multi-modal recognizer (source domains), then '
        'test the best source-validation checkpoint on the target domain.')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or (no value / "auto") '
        'from the latest checkpoint in the work directory')
    parser.add_argument('--amp', action='store_true',
                        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--auto-scale-lr', action='store_true',
        help='scale the learning rate by actual / base batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument('--diff-rank-seed', action='store_true',
                        help='use a different seed on every rank')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic options for the CUDNN backend')
    parser.add_argument(
        '--vis', nargs='+', choices=sorted(VIS_BACKENDS), default=[],
        help='also log to these mmengine visualisation backends (the '
        'training losses, source-val and, per epoch, the target metrics of '
        'every model); install with pip install -e ".[tb]" or ".[wandb]"')
    _add_common(parser)
    return parser


def build_test_parser() -> argparse.ArgumentParser:
    """Argument parser of ``tools/test.py``."""
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a checkpoint on the test split '
        '(the target domain).')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument(
        '--dump', type=str,
        help='dump predictions to a pickle file for offline evaluation')
    parser.add_argument(
        '--allow-key-mismatch', action='store_true',
        help='test a checkpoint whose keys or shapes do not match the '
        "config's model (by default an error: missing and unexpected keys "
        'are listed); unmatched weights keep their initial values')
    _add_common(parser)
    return parser
