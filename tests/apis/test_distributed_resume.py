"""Resuming a distributed run gives every rank back its own random streams
(RandomStateHook gathers them; rank 0 alone writes the checkpoint)."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch

from apis_testutils import HERE, write_tiny_config

REPO = osp.dirname(osp.dirname(HERE))
ENGINE_TESTS = osp.join(REPO, 'tests', 'engine')
sys.path.insert(0, ENGINE_TESTS)
from mmdg_testutils import subprocess_env  # noqa: E402

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow

EXTRA = '''
default_scope = 'mmaction'
runner_type = 'MMDGRunner'
custom_imports = dict(imports=['mbcd_mmaction.registration', 'tiny_components',
                               'mmdg_test_hooks'], allow_failed_imports=False)
custom_hooks = [dict(type='RankSkewedDrawHook'),
                dict(type='DumpRandomStateHook')]
default_hooks['random_state'] = dict(type='RandomStateHook')
'''


def _dist_train(tmp_path, config, work, *args):
    env = subprocess_env()
    env['PYTHONPATH'] = HERE + os.pathsep + env['PYTHONPATH']
    proc = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2',
         '--work-dir', str(work), '--seed', '5', *args],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]


def _same_state(a, b):
    return (a['python'] == b['python']
            and all(np.array_equal(x, y) if isinstance(x, np.ndarray)
                    else x == y for x, y in zip(a['numpy'], b['numpy']))
            and torch.equal(a['torch'], b['torch']))


def test_resume_restores_each_ranks_random_state(tmp_path):
    config = write_tiny_config(tmp_path, max_epochs=2)
    with open(config, 'a') as f:
        f.write(EXTRA)
    work = tmp_path / 'work'
    _dist_train(tmp_path, config, work)
    ckpt = torch.load(str(work / 'epoch_1.pth'), weights_only=True)
    per_rank = ckpt['random_state_per_rank']
    assert len(per_rank) == 2
    assert not _same_state(per_rank[0], per_rank[1])  # streams drifted
    assert _same_state(ckpt['random_state'], per_rank[0])

    _dist_train(tmp_path, config, work, '--resume',
                str(work / 'epoch_1.pth'))
    for rank in (0, 1):
        started = torch.load(str(work / f'rng_start_rank{rank}.pth'),
                             weights_only=True)
        assert _same_state(started, per_rank[rank]), rank


def test_non_finite_loss_on_one_rank_stops_every_rank(tmp_path):
    config = write_tiny_config(tmp_path, name='nan_cfg', max_epochs=2)
    with open(config, 'a') as f:
        f.write(EXTRA.replace(
            "custom_hooks = [dict(type='RankSkewedDrawHook'),\n"
            "                dict(type='DumpRandomStateHook')]",
            "custom_hooks = [dict(type='PoisonBatchHook', at_iter=1, "
            "rank=1)]"))
        f.write("default_hooks['non_finite_loss'] = "
                "dict(type='NonFiniteLossHook')\n")
    env = subprocess_env()
    env['PYTHONPATH'] = HERE + os.pathsep + env['PYTHONPATH']
    proc = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2',
         '--work-dir', str(tmp_path / 'work')],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=300)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    # both ranks raise, and each names rank 1's NaN and rank 0's value
    assert out.count('NonFiniteLossError: Non-finite loss at training '
                     'iteration 2 (epoch 1, batch 2/2') == 2, out[-4000:]
    assert 'batch 2/2, rank 0)' in out and 'batch 2/2, rank 1)' in out
    assert 'rank 1: loss=nan' in out and 'rank 0: loss=' in out
