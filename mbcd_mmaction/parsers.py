"""Command-line parsers of ``tools/train.py``, ``tools/test.py`` (mirroring
mmaction2's tools) and ``tools/benchmark.py``. Light: argparse and
mmengine's config parsing only, so ``--help`` answers without importing
torch."""
import argparse

from mmengine.config import DictAction

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')
#: ``--vis`` name -> (mmengine vis backend, the module it needs, extra)
VIS_BACKENDS = {'tensorboard': ('TensorboardVisBackend', 'tensorboard', 'tb'),
                'wandb': ('WandbVisBackend', 'wandb', 'wandb')}
#: the input sizes of ``tools/benchmark.py --size`` (the keys of
#: :data:`mbcd_mmaction.benchmark.training.SHAPES`)
BENCHMARK_SIZES = ('full', 'reduced', 'small', 'smoke')


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


def build_benchmark_parser() -> argparse.ArgumentParser:
    """Argument parser of ``tools/benchmark.py``."""
    p = argparse.ArgumentParser(
        description='Seconds per training iteration of every method (paper '
        'encoders, no weights), its split, memory, teacher size, and data '
        'pipeline throughput; prints a table (--json: JSON).')
    p.add_argument('--smoke', action='store_true',
                   help='tiny encoders, 2 iterations, tiny data: seconds')
    p.add_argument('--startup', action='store_true',
                   help='only the start-up: seconds until each tool\'s '
                   '--help answers and of the imports a training pays '
                   '(fresh interpreters, median of --iters)')
    p.add_argument('--config-root', default='configs')
    p.add_argument('--methods', nargs='+', default=None,
                   help='only these methods (names as discovered)')
    p.add_argument('--size', default='auto', choices=['auto', *BENCHMARK_SIZES],
                   help="input size; auto: 'full' on CUDA, 'reduced' on CPU")
    p.add_argument('--batch-size', type=int, default=None,
                   help='default: 16 on CUDA (the paper), 2 on CPU')
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--iters', type=int, default=3,
                   help='timed iterations per method (median reported)')
    p.add_argument('--breakdown-iters', type=int, default=1,
                   help='instrumented iterations per method (split, memory)')
    p.add_argument('--device', default='auto', choices=['auto', 'cpu', 'cuda'])
    for flag, text in (
            ('--amp', 'bf16 autocast (AmpOptimWrapper); auto: on with CUDA'),
            ('--channels-last', 'channels-last encoders and inputs; auto: '
             'on with CUDA'),
            ('--pin-memory', 'pinned host batches; auto: on with CUDA'),
            ('--retain-host-memory', 'glibc malloc keeps freed memory (what '
             'MMDGRunner does on CPU); auto: on without CUDA')):
        p.add_argument(flag, default='auto', choices=['auto', 'on', 'off'],
                       help=text)
    p.add_argument('--skip-data', action='store_true',
                   help='no data pipeline / decoder throughput')
    p.add_argument('--data-clips', type=int, default=None,
                   help='generated clips per dataset (default 8; smoke 2)')
    p.add_argument('--data-passes', type=int, default=None,
                   help='passes over the generated clips (default 3; '
                   'smoke 1)')
    p.add_argument('--frame-size', type=int, nargs=2, default=None,
                   metavar=('W', 'H'),
                   help='generated frame size (default 456 256, '
                   "EPIC's; smoke 64 36)")
    p.add_argument('--loader-workers', type=int, nargs='+', default=None,
                   metavar='N',
                   help='also measure a DataLoader over the generated EPIC '
                   'frames (all modalities) with each of these worker counts')
    p.add_argument('--loader-batches', type=int, default=8,
                   help='timed batches per --loader-workers count')
    p.add_argument('--json', action='store_true',
                   help='print every figure as one JSON object instead of '
                   'the table')
    p.add_argument('--output', default=None,
                   help='also write the JSON to this file')
    return p
