"""A real MBCD run (demo config, tiny generated data, random augmentation,
adaptive modality dropout, head dropout, EMA teacher) SIGKILLed in the
middle of an epoch and restarted with ``--resume`` ends with the same
weights, teacher, optimiser state and metrics as the uninterrupted run."""
import json
import os
import os.path as osp
import signal
import sys

import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.join(osp.dirname(HERE), 'engine'))
from mmdg_testutils import (data_options, run, train_cmd,  # noqa: E402
                            write_config)

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow

# 32 training clips (D2+D3), batch 8: 4 iterations in the one epoch; a
# resumable checkpoint after every iteration; killed while starting the
# third (after its batch was loaded and augmented).
BODY = '''
default_hooks = dict(checkpoint=dict(iter_interval=1))
custom_hooks = [dict(type='TeacherUpdateHook'){kill}]
'''
KILL = ", dict(type='KillAtIterHook', at_iter=2)"


def _train(tmp_path, root, name, kill=False, resume=False):
    config = write_config(tmp_path, BODY.format(kill=KILL if kill else ''),
                          name=name + '_cfg')
    args = ['--seed', '3', '--deterministic'] + (['--resume'] if resume
                                                 else [])
    return run(train_cmd(config, tmp_path / ('work_' + name),
                         *data_options(root, batch_size=8),
                         'train_cfg.max_epochs=1', extra_args=args),
               tmp_path, check=not kill)


def _load(path):
    return torch.load(str(path), map_location='cpu', weights_only=True)


@pytest.fixture(scope='module')
def full_run(tiny_epic_root, tmp_path_factory):
    """The uninterrupted run's work dir."""
    tmp = tmp_path_factory.mktemp('full')
    _train(tmp, tiny_epic_root, 'full')
    return tmp / 'work_full'


def _assert_same_run(full, work):
    expected, got = _load(full / 'epoch_1.pth'), _load(work / 'epoch_1.pth')
    assert got['meta']['iter'] == expected['meta']['iter'] == 4
    assert expected['state_dict'].keys() == got['state_dict'].keys()
    assert any(k.startswith('teacher.') for k in got['state_dict'])
    for key, value in expected['state_dict'].items():
        assert torch.equal(value, got['state_dict'][key]), key
    # optimiser state (Adam moments, step counts)
    for pid, state in expected['optimizer']['state'].items():
        for name, value in state.items():
            assert torch.equal(value, got['optimizer']['state'][pid][name]), \
                (pid, name)
    # the random streams continue identically
    assert torch.equal(expected['random_state']['torch'],
                       got['random_state']['torch'])
    # iteration checkpoints are gone once the epoch checkpoint exists
    assert not any(p.startswith('iter_') for p in os.listdir(work))
    # same metrics (source validation, best checkpoint, target test)
    res_full = json.load(open(full / 'target_results.json'))
    res_resumed = json.load(open(work / 'target_results.json'))
    for key in ('test_metrics', 'best_val_score', 'best_val_metric',
                'best_epoch', 'best_iter'):
        assert res_full[key] == res_resumed[key], key


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(
        tiny_epic_root, tmp_path, full_run):
    killed = _train(tmp_path, tiny_epic_root, 'killed', kill=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    work = tmp_path / 'work_killed'
    # the kill left the iteration-2 checkpoint (iter_1 pruned after it)
    assert sorted(p for p in os.listdir(work) if p.endswith('.pth')) == \
        ['iter_2.pth']
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_2.pth')
    mid = _load(work / 'iter_2.pth')
    assert mid['meta']['epoch'] == 0 and mid['meta']['iter'] == 2
    assert {'optimizer', 'random_state', 'message_hub'} <= set(mid)

    # restart the same command with --resume (auto: last_checkpoint),
    # without the kill
    config = write_config(tmp_path, BODY.format(kill=''), name='killed_cfg')
    proc = run(train_cmd(config, work, *data_options(tiny_epic_root, 8),
                         'train_cfg.max_epochs=1', 'log_level=INFO',
                         extra_args=['--seed', '3', '--deterministic',
                                     '--resume']), tmp_path)
    _assert_same_run(full_run, work)
    assert 'Resuming inside epoch 1: skipping its first 2 of 4' in \
        proc.stdout + proc.stderr


# No iteration checkpoints of their own (iter_interval=0): the only one is
# what the SIGTERM writes. The signal arrives while the third iteration
# runs (its batch loaded).
TERM_BODY = '''
default_hooks = dict(checkpoint=dict(iter_interval=0))
custom_hooks = [dict(type='TeacherUpdateHook'){term}]
'''


def test_sigterm_mid_epoch_saves_then_resume_equals_uninterrupted(
        tiny_epic_root, tmp_path, full_run, signame='SIGTERM'):
    signum = getattr(signal, signame)
    term = f", dict(type='SignalAtIterHook', at_iter=2, signal={signame!r})"
    config = write_config(tmp_path, TERM_BODY.format(term=term), name='cfg')
    work = tmp_path / 'work'
    args = ['--seed', '3', '--deterministic']
    options = (*data_options(tiny_epic_root, batch_size=8),
               'train_cfg.max_epochs=1')
    stopped = run(train_cmd(config, work, *options, extra_args=args),
                  tmp_path, check=False)
    log = stopped.stdout + stopped.stderr
    assert stopped.returncode == 128 + signum, log[-3000:]
    assert f'{signame} received: training stopped after iteration 3 ' \
        '(epoch 1); resumable checkpoint iter_3.pth written; continue ' \
        f'with --resume. Exiting with status {128 + signum}.' in log, \
        log[-3000:]
    assert sorted(p for p in os.listdir(work) if p.endswith('.pth')) == \
        ['iter_3.pth']
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_3.pth')
    assert _load(work / 'iter_3.pth')['meta']['iter'] == 3
    assert not (work / 'target_results.json').exists()
    assert not (work / 'run.lock').exists()  # the lock went with the run

    config = write_config(tmp_path, TERM_BODY.format(term=''), name='cfg')
    proc = run(train_cmd(config, work, *options, 'log_level=INFO',
                         extra_args=args + ['--resume']), tmp_path)
    _assert_same_run(full_run, work)
    assert 'Resuming inside epoch 1: skipping its first 3 of 4' in \
        proc.stdout + proc.stderr
