"""The exclusive lock of a work directory (``run.lock``): a second run into
a directory another live process holds fails at once, naming the holder,
before it writes anything; a lock left by a dead process (or a crash, or
its lingering forked children) does not block the next run."""
import json
import logging
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import time

import pytest

from apis_testutils import write_tiny_config
from mbcd_mmaction.apis import (WorkDirLockedError, build_test_parser,
                                build_train_parser, setup_cfg,
                                setup_test_cfg, test, train)
from mbcd_mmaction.work_dir_lock import RUN_LOCK, WorkDirLock, holder

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# A process that takes the lock of argv[1], says so, and keeps it; with
# argv[2] == 'fork-and-die' it forks a child that lingers, then SIGKILLs
# itself (a crashed run whose DataLoader worker outlives it).
HOLDER = '''
import os, signal, sys, time
from mbcd_mmaction.work_dir_lock import WorkDirLock
WorkDirLock(sys.argv[1]).acquire()
if sys.argv[2:] == ['fork-and-die']:
    ready, tell = os.pipe()
    if os.fork() == 0:
        # fork() has returned here: the lock's at-fork handler has run
        os.write(tell, b'x')
        time.sleep(20)
        os._exit(0)
    os.read(ready, 1)  # the child is past fork(), not merely scheduled
    print('locked', flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
print('locked', flush=True)
time.sleep(60)
'''


def _start_holder(work, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [REPO, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.Popen([sys.executable, '-c', HOLDER, str(work), *args],
                            stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == 'locked'
    return proc


def _train_cfg(config, work):
    return setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', str(work), '--seed', '0']))


def test_second_run_fails_at_once_naming_the_holder(tmp_path):
    work = tmp_path / 'work'
    config = write_tiny_config(tmp_path, max_epochs=1)
    proc = _start_holder(work)
    try:
        with pytest.raises(WorkDirLockedError) as info:
            train(_train_cfg(config, work))
        message = str(info.value)
        assert f'work_dir {work} is in use' in message, message
        assert f'pid {proc.pid} on host {socket.gethostname()} since ' \
            in message, message
        assert info.value.holder['pid'] == proc.pid
        # nothing written before the check: no log directory, no checkpoint
        assert os.listdir(work) == [RUN_LOCK]
        # testing into the held directory is refused too
        with pytest.raises(WorkDirLockedError, match=str(proc.pid)):
            test(setup_test_cfg(build_test_parser().parse_args(
                [config, str(tmp_path / 'x.pth'), '--work-dir', str(work)])))
        assert holder(str(work))['pid'] == proc.pid
    finally:
        proc.kill()
        proc.wait()
    # the lock went with the process: the run starts now, and its lock is
    # gone when it ends
    assert (work / RUN_LOCK).is_file()  # the dead holder's record is left
    assert holder(str(work)) is None  # but nobody holds it
    train(_train_cfg(config, work))
    assert (work / 'target_results.json').is_file()
    assert not (work / RUN_LOCK).exists()


def test_lock_of_a_dead_process_is_taken_over_with_a_warning(tmp_path,
                                                              caplog):
    work = tmp_path / 'work'
    work.mkdir()
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    record = dict(pid=dead.pid, host=socket.gethostname(),
                  since='2026-01-01T00:00:00+00:00', command='train.py x')
    (work / RUN_LOCK).write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING, 'mbcd_mmaction.work_dir_lock'):
        with WorkDirLock(str(work)) as lock:
            assert lock.held
            assert holder(str(work))['pid'] == os.getpid()
    assert f'left by pid {dead.pid} on host {socket.gethostname()}' \
        in caplog.text and 'no longer runs' in caplog.text
    assert not (work / RUN_LOCK).exists()


def test_crashed_holder_with_lingering_child_does_not_block(tmp_path):
    work = tmp_path / 'work'
    proc = _start_holder(work, 'fork-and-die')
    assert proc.wait() == -signal.SIGKILL
    # its forked child still runs, yet holds no lock
    with WorkDirLock(str(work)):
        pass


def test_lock_is_reentrant_in_one_process_and_exclusive_across(tmp_path):
    work = str(tmp_path / 'work')
    with WorkDirLock(work):
        with WorkDirLock(work):  # the runner inside the tool's lock
            pass
        assert holder(work)['pid'] == os.getpid()  # still held
    assert holder(work) is None
    start = time.time()
    proc = _start_holder(work)
    try:
        with pytest.raises(WorkDirLockedError, match='Wait for it to end'):
            WorkDirLock(work).acquire()
        assert time.time() - start < 30
    finally:
        proc.kill()
        proc.wait()
