"""A kill while a checkpoint is being written leaves the previous one
loadable, and ``--resume`` continues from it (MMDGRunner +
SafeCheckpointHook). Tiny real mmengine runs (tests/apis components)."""
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest
import torch

from apis_testutils import HERE as APIS_DIR
from apis_testutils import write_tiny_config
from mmdg_testutils import REPO, subprocess_env

SAFE = ("default_scope = 'mmaction'\nrunner_type = 'MMDGRunner'\n"
        "default_hooks = dict(checkpoint=dict(type='SafeCheckpointHook', "
        "interval=1, max_keep_ckpts=1, save_best='acc', rule='greater'))\n")
STOCK = ("default_scope = 'mmaction'\n"
         "default_hooks = dict(checkpoint=dict(type='CheckpointHook', "
         "interval=1, max_keep_ckpts=1, save_best='acc', rule='greater'))\n")

# Runs tools/train.py; the checkpoint write whose path contains KILL_IN is
# cut after half of its bytes by SIGKILL (a crash in the middle of a save).
DRIVER = r'''
import os, signal, sys
import mbcd_mmaction.registration  # noqa: F401  (registers every component)
from mmengine.fileio.backends import local_backend
original = local_backend.LocalBackend.put
def put(self, obj, filepath):
    if os.environ['KILL_IN'] in os.path.basename(str(filepath)):
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 2])
            f.flush()
            os.fsync(f.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, obj, filepath)
local_backend.LocalBackend.put = put
sys.path.insert(0, os.environ['REPO'] + '/tools')
from train import main
main(sys.argv[1:])
'''


def _config(tmp_path, extra, name):
    config = write_tiny_config(tmp_path, name=name, max_epochs=3,
                               schedule=(0.9, 0.5, 0.7))
    with open(config, 'a') as f:
        f.write(extra)
    return config


def _crash_in_save(tmp_path, config, work, kill_in):
    driver = tmp_path / 'driver.py'
    driver.write_text(DRIVER)
    env = subprocess_env()
    env.update(KILL_IN=kill_in, REPO=REPO)
    env['PYTHONPATH'] = APIS_DIR + os.pathsep + env['PYTHONPATH']
    proc = subprocess.run(
        [sys.executable, str(driver), config, '--work-dir', str(work),
         '--seed', '0'], cwd=str(tmp_path), env=env, capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]


def _loads(path):
    return torch.load(str(path), map_location='cpu', weights_only=True)


def test_kill_during_save_keeps_previous_checkpoint(tmp_path):
    config = _config(tmp_path, SAFE, 'safe_cfg')
    work = tmp_path / 'work'
    _crash_in_save(tmp_path, config, work, kill_in='epoch_2')
    # epoch_1 was not pruned before its successor existed; the torn write
    # is a hidden temporary file, never epoch_2.pth
    assert (work / 'epoch_1.pth').is_file()
    assert not (work / 'epoch_2.pth').exists()
    assert _loads(work / 'epoch_1.pth')['meta']['epoch'] == 1
    assert (work / 'last_checkpoint').read_text() == \
        str(work / 'epoch_1.pth')
    assert [p for p in os.listdir(work) if p.startswith('.epoch_2.pth.')]

    # --resume (auto) continues from epoch 1 and finishes
    from mbcd_mmaction.apis import build_runner, build_train_parser, \
        setup_cfg
    cfg = setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', str(work), '--seed', '0', '--resume']))
    runner = build_runner(cfg)
    assert type(runner).__name__ == 'MMDGRunner'
    runner.train()
    assert runner.epoch == 3
    assert _loads(work / 'epoch_3.pth')['meta']['epoch'] == 3
    assert not (work / 'epoch_1.pth').exists()  # pruned once superseded


def test_stock_checkpoint_hook_is_made_safe(tmp_path):
    """mmengine 0.10.7's CheckpointHook with max_keep_ckpts=1 deletes
    epoch_1 before writing epoch_2 (a kill then leaves no checkpoint) and
    keeps the earlier epoch on a tie; tools/train.py trains a config that
    names it with SafeCheckpointHook, so epoch_1 survives the kill."""
    config = _config(tmp_path, STOCK, 'stock_cfg')
    work = tmp_path / 'work'
    _crash_in_save(tmp_path, config, work, kill_in='epoch_2')
    assert _loads(work / 'epoch_1.pth')
    with pytest.raises(Exception):
        _loads(work / 'epoch_2.pth')  # half-written


def test_auto_resume_skips_torn_last_checkpoint(tmp_path):
    from mbcd_mmaction.engine.runner import is_complete_checkpoint
    from mbcd_mmaction.apis import build_runner, build_train_parser, \
        setup_cfg
    config = _config(tmp_path, SAFE, 'torn_cfg')
    work = tmp_path / 'work'
    args = [config, '--work-dir', str(work), '--seed', '0']
    cfg = setup_cfg(build_train_parser().parse_args(
        args + ['--cfg-options', 'train_cfg.max_epochs=1']))
    build_runner(cfg).train()
    good = work / 'epoch_1.pth'
    torn = work / 'epoch_2.pth'
    data = good.read_bytes()
    torn.write_bytes(data[:len(data) // 2])  # e.g. copied by a dying rsync
    os.utime(str(torn))
    (work / 'last_checkpoint').write_text(str(torn))
    assert is_complete_checkpoint(str(good))
    assert not is_complete_checkpoint(str(torn))
    runner = build_runner(setup_cfg(build_train_parser().parse_args(
        args + ['--resume'])))
    assert runner._auto_resume_checkpoint() == str(good)


def test_prunes_after_save_and_replaces_best(tmp_path):
    """Validation improves every epoch: each new best and epoch checkpoint
    replaces its predecessor, which is removed only afterwards."""
    from mbcd_mmaction.apis import build_runner, build_train_parser, \
        setup_cfg
    # a config name of its own: mmengine names the message hub after the
    # config and the second, so two runs in one second would share one
    config = write_tiny_config(tmp_path, name='prune_cfg', max_epochs=3,
                               schedule=(0.5, 0.7, 0.9))
    with open(config, 'a') as f:
        f.write(SAFE)
    work = tmp_path / 'work'
    runner = build_runner(setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', str(work), '--seed', '0'])))
    runner.train()
    assert sorted(p for p in os.listdir(work) if p.endswith('.pth')) == \
        ['best_acc_epoch_3.pth', 'epoch_3.pth']
    assert not [p for p in os.listdir(work) if p.endswith('.tmp')]
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_3.pth')
    assert runner.message_hub.get_info('best_ckpt') == \
        str(work / 'best_acc_epoch_3.pth')


class _StopAfter:
    """Interrupts training after iteration ``n`` (1-based), once its
    checkpoint was written (runs after CheckpointHook)."""

    def __new__(cls, n):
        from mmengine.hooks import Hook

        class StopAfter(Hook):
            def after_train_iter(self, runner, batch_idx, data_batch=None,
                                 outputs=None):
                if runner.iter + 1 == n:
                    raise KeyboardInterrupt
        return StopAfter()


def test_resume_from_iteration_checkpoints(tmp_path):
    """Resuming from an iteration checkpoint in the middle of an epoch and
    from one at an epoch's last batch (before the epoch ended) reproduces
    the uninterrupted run (tiny model: 16 samples, batch 4, 4 iterations
    an epoch, shuffled)."""
    from mbcd_mmaction.apis import build_runner, build_train_parser, \
        setup_cfg

    def config(label):
        # one config name per run: mmengine names the message hub after the
        # config and the second, so runs in one second would share one
        path = write_tiny_config(tmp_path, name=f'iter_{label}_cfg',
                                 max_epochs=3)
        with open(path, 'a') as f:
            f.write(SAFE)
        return path

    # epoch checkpoints every 2 epochs, so iter_4 (end of epoch 1) is kept
    opts = ['default_hooks.checkpoint.interval=2',
            'default_hooks.checkpoint.iter_interval=2',
            'default_hooks.checkpoint.max_keep_ckpts=-1']

    def train(work, *extra):
        runner = build_runner(setup_cfg(build_train_parser().parse_args(
            [config(osp.basename(str(work))), '--work-dir', str(work),
             '--seed', '0', *extra, '--cfg-options', *opts])))
        runner.train()
        return runner

    full = train(tmp_path / 'full')
    expected = full.model.state_dict()
    assert full.iter == 12
    for name in ('iter_6.pth', 'iter_10.pth'):  # mid-epoch 2, 3
        assert (tmp_path / 'full' / name).exists() is False  # pruned
    # a run stopped after iteration 4 (epoch 1's last batch) and 6
    for stop_iter in (4, 6):
        work = tmp_path / f'stop{stop_iter}'
        partial = build_runner(setup_cfg(build_train_parser().parse_args(
            [config(osp.basename(str(work))), '--work-dir', str(work),
             '--seed', '0', '--cfg-options', *opts])))
        partial.register_hook(_StopAfter(stop_iter), priority='LOWEST')
        with pytest.raises(KeyboardInterrupt):
            partial.train()
        ckpt = work / f'iter_{stop_iter}.pth'
        assert ckpt.is_file()
        resumed = train(tmp_path / f'resumed{stop_iter}', '--resume',
                        str(ckpt))
        assert resumed.iter == 12 and resumed.epoch == 3
        for key, value in expected.items():
            assert torch.equal(value, resumed.model.state_dict()[key]), \
                (stop_iter, key)
