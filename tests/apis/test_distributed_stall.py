"""A stopped DDP peer: the waiting rank says what it waits for
(PeerWatchdogHook, two CPU processes under tools/dist_train.sh)."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest

from apis_testutils import HERE, write_tiny_config

pytestmark = pytest.mark.slow

REPO = osp.dirname(osp.dirname(HERE))
ENGINE_TESTS = osp.join(REPO, 'tests', 'engine')

STALL_CONFIG = '''
custom_imports = dict(imports=['mbcd_mmaction.registration', 'tiny_components',
                               'mmdg_test_hooks'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='mmaction.PeerWatchdogHook', stall_seconds=3),
                dict(type='StopAtIterHook', at_iter=3, rank=1)]
'''


def _env():
    from test_distributed_cpu import _env as dist_env
    env = dist_env()
    env['PYTHONPATH'] = ENGINE_TESTS + os.pathsep + env['PYTHONPATH']
    env['PYTHONUNBUFFERED'] = '1'
    return env


def test_rank_waiting_for_a_stopped_peer_names_it(tmp_path):
    config = write_tiny_config(tmp_path, max_epochs=3)
    with open(config, 'a') as f:
        f.write(STALL_CONFIG)
    work_dir = str(tmp_path / 'work')
    log_path = str(tmp_path / 'console.log')
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(
            ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2',
             '--work-dir', work_dir],
            cwd=str(tmp_path), env=_env(), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    warning = None
    try:
        end = time.time() + 120
        while time.time() < end and proc.poll() is None:
            with open(log_path) as f:
                lines = [ln for ln in f if 'Rank 0 (pid' in ln
                         and 'It waits for: rank 1' in ln]
            if lines:
                warning = lines[0]
                break
            time.sleep(0.3)
        with open(osp.join(work_dir, '.heartbeat', 'rank1.json')) as f:
            rank1 = json.load(f)
        with open(osp.join(work_dir, '.heartbeat', 'rank0.json')) as f:
            rank0 = json.load(f)
        stopped = open(f"/proc/{rank1['pid']}/stat").read().split()[2]
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)
    console = open(log_path).read()
    assert warning is not None, console[-5000:]
    assert stopped == 'T'  # rank 1 really was stopped, not dead
    # rank 0 says where it is, for how long, and which peer it waits for
    assert rank0['phase'] == rank1['phase'] == \
        'training iteration 4 (epoch 2)'
    assert (f"Rank 0 (pid {rank0['pid']}, host {rank0['host']}) has been in "
            'training iteration 4 (epoch 2) for ') in warning
    assert 'where DDP all-reduces the gradients with every rank' in warning
    assert (f"It waits for: rank 1 (pid {rank1['pid']}, host "
            f"{rank1['host']}): its heartbeat stopped ") in warning
    assert 'stopped (SIGSTOP' in warning
    assert 'last recorded training iteration 4 (epoch 2) ' in warning
    assert 'env_cfg.dist_cfg.timeout = 1800 s' in warning
