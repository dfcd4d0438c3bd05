"""Two real ``tools/train.py`` runs started into one work directory: the
second fails at once, naming the work directory and the first run's pid,
host and start time, and writes nothing; the first one finishes with its
files intact."""
import json
import os
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'engine'))
from mmdg_testutils import (data_options, run, subprocess_env,  # noqa: E402
                            train_cmd, write_config)

pytestmark = pytest.mark.slow  # two real runs (about 30 s)


def _snapshot(work):
    return {os.path.relpath(os.path.join(d, f), work):
            os.stat(os.path.join(d, f)).st_mtime_ns
            for d, _, files in os.walk(work) for f in files}


def test_second_training_into_a_busy_work_dir_fails_first_intact(
        tiny_epic_root, tmp_path):
    work = tmp_path / 'work'
    options = (*data_options(tiny_epic_root, batch_size=8),
               'train_cfg.max_epochs=1')
    first_cfg = write_config(
        tmp_path, "custom_hooks = [dict(type='TeacherUpdateHook'), "
        "dict(type='PauseAtIterHook', at_iter=1)]\n", name='first')
    first = subprocess.Popen(
        train_cmd(first_cfg, work, *options, extra_args=['--seed', '3']),
        cwd=str(tmp_path), env=subprocess_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        end = time.time() + 300
        while not (work / 'PAUSED').exists():
            assert first.poll() is None, first.communicate()
            assert time.time() < end
            time.sleep(0.1)
        before = _snapshot(work)
        second_cfg = write_config(tmp_path, '', name='second')
        start = time.time()
        second = run(train_cmd(second_cfg, work, *options,
                               extra_args=['--seed', '4']), tmp_path,
                     check=False)
        assert second.returncode != 0
        assert time.time() - start < 60  # at once, not after training
        lock = json.loads((work / 'run.lock').read_text())
        assert lock['pid'] == first.pid
        assert (f'WorkDirLockedError: work_dir {work} is in use: '
                f'{work}/run.lock is held by pid {first.pid} on host '
                f'{socket.gethostname()} since {lock["since"]}') in \
            second.stderr, second.stderr[-3000:]
        assert _snapshot(work) == before  # the second wrote nothing
    finally:
        (work / 'GO').touch()
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-3000:]
    results = json.loads((work / 'target_results.json').read_text())
    assert results['seed'] == 3 and results['work_dir'] == str(work)
    # one run's validations (one epoch: one line), one log directory
    assert len((work / 'eval_log.jsonl').read_text().splitlines()) == 1
    assert len([d for d in os.listdir(work) if (work / d).is_dir()]) == 1
    assert not (work / 'run.lock').exists()
