"""PeerWatchdogHook's stall message from heartbeat files (no processes)."""
import json
import os

import pytest

from mbcd_mmaction.engine.hooks import PeerWatchdogHook
from mbcd_mmaction.engine.hooks.peer_watchdog_hook import (heartbeat_path,
                                                            read_peers,
                                                            stall_message)

NOW = 1_000_000.0


def _record(rank, progress, since, beat, run='20261203_120000',
            phase='training iteration 4 (epoch 2)'):
    return dict(rank=rank, world_size=4, pid=100 + rank, host=f'node{rank}',
                run=run, phase=phase, inside='the forward and backward',
                progress=progress, since=since, beat=beat)


def _write(work_dir, record):
    path = heartbeat_path(str(work_dir), record['rank'])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(record, f)


def test_message_names_stopped_behind_absent_and_other_run_peers(tmp_path):
    own = _record(0, 9, NOW - 40, NOW)
    _write(tmp_path, _record(1, 9, NOW - 41, NOW - 39))  # stopped
    _write(tmp_path, _record(2, 8, NOW - 50, NOW - 1,  # alive, behind
                             phase='the end of training iteration 3 (epoch 2)'))
    # rank 3: no file
    peers = read_peers(str(tmp_path), 4, 0)
    msg = stall_message(own, peers, NOW, 30, 1800, str(tmp_path))
    assert msg.startswith('Rank 0 (pid 100, host node0) has been in training '
                          'iteration 4 (epoch 2) for 40 s')
    assert ('rank 1 (pid 101, host node1): its heartbeat stopped 39 s ago'
            in msg)
    assert ('rank 2 (pid 102, host node2): alive but behind this rank, last '
            'recorded the end of training iteration 3 (epoch 2) 50 s ago'
            in msg)
    assert f"rank 3: no heartbeat file {heartbeat_path(str(tmp_path), 3)}" \
        in msg
    assert 'env_cfg.dist_cfg.timeout = 1800 s' in msg

    _write(tmp_path, _record(3, 9, NOW, NOW, run='20261202_080000'))
    msg = stall_message(own, read_peers(str(tmp_path), 4, 0), NOW, 30, 1800,
                        str(tmp_path))
    assert 'rank 3 (pid 103, host node3): its heartbeat file is from ' \
           'another run (started 20261202_080000' in msg


def test_message_when_the_others_are_ahead_blames_this_rank(tmp_path):
    own = _record(1, 8, NOW - 400, NOW,
                  phase='the end of training iteration 3 (epoch 2)')
    _write(tmp_path, _record(0, 9, NOW - 399, NOW - 1))
    msg = stall_message(own, read_peers(str(tmp_path), 2, 1), NOW, 30, None,
                        str(tmp_path))
    assert 'No other rank is recorded behind this one' in msg
    assert 'Further on: rank 0 (pid 100, host node0)' in msg
    assert "the time is spent in this rank's step" in msg
    assert 'It waits for' not in msg


@pytest.mark.parametrize('key,value', [('stall_seconds', 0),
                                       ('beat_seconds', -1),
                                       ('stall_factor', 'x')])
def test_bad_settings_are_named(key, value):
    with pytest.raises(ValueError, match=f'{key}={value!r}'):
        PeerWatchdogHook(**{key: value})


def test_no_op_when_not_distributed(tmp_path):
    class Runner:
        work_dir = str(tmp_path)
    hook = PeerWatchdogHook(stall_seconds=1)
    hook.before_run(Runner())
    hook.before_train_iter(Runner(), 0)
    hook.after_run(Runner())
    assert hook._thread is None and not os.listdir(tmp_path)


def test_automatic_stall_follows_the_median_step():
    hook = PeerWatchdogHook()
    assert hook.current_stall_seconds() == 300
    hook._steps.extend([20.0, 30.0, 25.0])
    assert hook.current_stall_seconds() == 500
