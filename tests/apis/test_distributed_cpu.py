"""CPU distributed training through tools/dist_train.sh (torchrun, gloo)."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

from apis_testutils import HERE, write_tiny_config

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow

REPO = osp.dirname(osp.dirname(HERE))


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _env():
    env = dict(os.environ)
    env['PYTHONPATH'] = HERE + os.pathsep + env.get('PYTHONPATH', '')
    env['PORT'] = str(_free_port())
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env.pop('LOCAL_RANK', None)
    return env


def test_two_process_gloo_training_and_test(tmp_path):
    config = write_tiny_config(tmp_path, schedule=(0.2, 0.9, 0.4))
    work_dir = str(tmp_path / 'work')
    proc = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config, '2',
         '--work-dir', work_dir, '--seed', '5'],
        cwd=str(tmp_path), env=_env(), capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]

    ranks = [json.load(open(osp.join(work_dir, f'weights_train_rank{r}.json')))
             for r in (0, 1)]
    assert ranks[0]['world_size'] == ranks[1]['world_size'] == 2
    assert ranks[0]['values'] == ranks[1]['values']  # DDP kept them equal
    tested = [json.load(open(osp.join(work_dir, f'weights_test_rank{r}.json')))
              for r in (0, 1)]
    assert tested[0]['values'] == tested[1]['values']
    assert tested[0]['values'] != ranks[0]['values']  # best (2) != last (3)

    results = json.load(open(osp.join(work_dir, 'target_results.json')))
    assert results['best_epoch'] == 2
    assert results['best_checkpoint'] == osp.join(work_dir,
                                                  'best_acc_epoch_2.pth')
    # 16 training samples, 2 ranks, batch 4: 2 iterations per epoch
    assert results['best_iter'] == 4
    assert results['seed'] == 5

    # the dumped config says what was used
    from mmengine.config import Config
    dumped = Config.fromfile(osp.join(work_dir, 'tiny_cfg.py'))
    assert dumped.env_cfg.dist_cfg.backend == 'gloo'
    assert dumped.model_wrapper_cfg.device_ids is None

    # distributed test of the same checkpoint
    out = str(tmp_path / 'test_out')
    proc = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_test.sh'), config,
         results['best_checkpoint'], '2', '--work-dir', out],
        cwd=str(tmp_path), env=_env(), capture_output=True, text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    tested = json.load(open(osp.join(out, 'test_results.json')))
    assert tested['test_metrics'] == results['test_metrics']
