"""High-level entry points behind ``tools/train.py`` and ``tools/test.py``."""
from mbcd_mmaction import compat  # noqa: F401  (before mmaction imports)
from .config import (build_test_parser, build_train_parser, config_name,
                     run_request, setup_cfg, setup_test_cfg)
from .device import configure_device, init_distributed
from .runner import (ModelSelectionError, WorkDirInUseError, build_runner,
                     check_datasets, check_model_selection_cfg,
                     check_work_dir_free, find_best_checkpoint,
                     shutdown_distributed, test, test_best_checkpoint, train,
                     work_dir_lock)
from mbcd_mmaction.work_dir_lock import WorkDirLockedError

__all__ = [
    'build_train_parser', 'build_test_parser', 'setup_cfg', 'setup_test_cfg',
    'config_name', 'run_request', 'configure_device', 'init_distributed',
    'ModelSelectionError', 'build_runner',
    'check_model_selection_cfg', 'find_best_checkpoint', 'test',
    'WorkDirInUseError', 'check_datasets', 'check_work_dir_free',
    'test_best_checkpoint', 'train', 'shutdown_distributed',
    'work_dir_lock', 'WorkDirLockedError'
]
