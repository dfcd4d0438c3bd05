"""tools/sweep.py on submitit's local executor: a 2-run grid of a tiny
config, a run SIGKILLed mid-way and continued with --resume, a failed
attempt retried, and a second call that runs nothing."""
import io
import os
import os.path as osp
import subprocess
import sys

import pytest

from mbcd_mmaction.experiments.sweep import (Sweep, make_executor,
                                             options_dir, plan_config_runs,
                                             read_status)

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
APIS = osp.join(REPO, 'tests', 'apis')

CONFIG = '''
custom_imports = dict(imports=['mbcd_mmaction.registration', 'tiny_components',
                               'sweep_components'],
                      allow_failed_imports=False)
model = dict(type='TinyNet')
_loader = dict(batch_size=4, num_workers=0,
               collate_fn=dict(type='default_collate'),
               sampler=dict(type='DefaultSampler', shuffle=False))
train_dataloader = dict(_loader, sampler=dict(type='DefaultSampler',
                                              shuffle=True),
                        dataset=dict(type='TinyDataset', length=16, seed=0))
val_dataloader = dict(_loader, dataset=dict(type='TinyDataset', length=8,
                                            seed=1))
test_dataloader = dict(_loader, dataset=dict(type='TinyDataset', length=8,
                                             seed=2))
val_evaluator = dict(type='TinyAccuracy')
test_evaluator = val_evaluator
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.5))
runner_type = 'MMDGRunner'
default_scope = 'mmaction'
default_hooks = dict(
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=1,
                    save_best='top1', rule='greater'),
    logger=dict(type='LoggerHook', interval=1))
custom_hooks = [dict(type='EpochMarkerHook')]
log_level = 'WARNING'
'''


def _epochs(work_dir):
    with open(osp.join(work_dir, 'epochs.txt')) as f:
        return [tuple(map(int, line.split())) for line in f]


@pytest.mark.slow
def test_local_sweep_resume_retry_idempotent(tmp_path, monkeypatch):
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join(
        [REPO, APIS, HERE, os.environ.get('PYTHONPATH', '')]))
    config = tmp_path / 'tiny_sweep.py'
    config.write_text(CONFIG)
    runs = plan_config_runs(str(config), [0, 1], str(tmp_path / 'sweep'))
    assert [r.work_dir for r in runs] == [
        str(tmp_path / 'sweep' / 'tiny_sweep' / 'default' / f'seed{s}')
        for s in (0, 1)]
    executor = make_executor('local', str(tmp_path / 'submitit'), 10)

    def sweep(**kwargs):
        return Sweep(runs, executor, max_parallel=2, poll_s=0.2,
                     **kwargs).launch()

    # seed 1 is SIGKILLed after epoch 2 (its checkpoint is saved)
    os.makedirs(runs[1].work_dir)
    open(osp.join(runs[1].work_dir, 'KILL_AT_2'), 'w').close()
    counts = sweep(retries=0)
    assert (counts['launched'], counts['done'], counts['failed']) == (2, 1, 1)
    assert runs[0].state() == 'done' and runs[1].state() == 'failed'
    # without --resume the killed run is left alone
    assert sweep()['launched'] == 0
    # --resume continues it from epoch 2; killed again after epoch 3, the
    # retry continues from epoch 3
    open(osp.join(runs[1].work_dir, 'KILL_AT_3'), 'w').close()
    counts = sweep(resume=True, retries=1)
    assert (counts['launched'], counts['done'], counts['failed']) == (1, 2, 0)
    first, second, third = (p for p in dict.fromkeys(
        pid for pid, _ in _epochs(runs[1].work_dir)))
    assert _epochs(runs[1].work_dir) == [
        (first, 1), (first, 2), (second, 3), (third, 4)]
    assert read_status(runs[1].work_dir)['attempt'] == 1
    assert '--resume' in read_status(runs[1].work_dir)['command']
    assert [e for _, e in _epochs(runs[0].work_dir)] == [1, 2, 3, 4]
    # idempotent: everything is done, nothing runs
    counts = sweep(resume=True)
    assert (counts['launched'], counts['skipped']) == (0, 2)


def test_dry_run_prints_commands(tmp_path):
    out = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'sweep.py'), '--table', '2',
         '--method', 'mbcd', '--dataset', 'hac', '--seeds', '0', '1',
         '--work-root', str(tmp_path), '--dry-run', '--cfg-options',
         'train_cfg.max_epochs=2'], capture_output=True, text=True,
        timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    commands = [line for line in out.stdout.splitlines()
                if not line.startswith('#')]
    # 3 single-source runs (one per source) x 2 seeds
    assert len(commands) == 6
    # the added option is part of the work dir: opts_<hash of it>
    opts = options_dir(['train_cfg.max_epochs=2'])
    assert commands[0].endswith(
        f'configs/mbcd/mbcd_hac.py --work-dir {tmp_path}/mbcd_hac_vaf/'
        f'single_source_human/{opts}/seed0 --seed 0 --cfg-options '
        'protocol=single_source source_domain=human modalities=vaf '
        'train_cfg.max_epochs=2')
    assert not os.listdir(tmp_path)  # nothing started


# Another process holding a run's lock: argv[2] is run.lock (a training of
# the run) or sweep.lock (another sweep that launched it).
LOCK_HOLDER = '''
import sys, time
from mbcd_mmaction.work_dir_lock import WorkDirLock
WorkDirLock(sys.argv[1], sys.argv[2]).acquire()
print('locked', flush=True)
time.sleep(60)
'''


@pytest.mark.parametrize('lock', ['run.lock', 'sweep.lock'])
def test_run_held_elsewhere_is_not_launched_nor_done(tmp_path, lock):
    config = tmp_path / 'tiny_sweep.py'
    config.write_text(CONFIG)
    run, = plan_config_runs(str(config), [0], str(tmp_path / 'sweep'))
    os.makedirs(run.work_dir)
    # a finished run being continued, or a results file of the other
    # process: still not 'done' while the other process holds it
    with open(osp.join(run.work_dir, 'target_results.json'), 'w') as f:
        f.write('{}')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [REPO, os.environ.get('PYTHONPATH', '')]))
    holder = subprocess.Popen(
        [sys.executable, '-c', LOCK_HOLDER, run.work_dir, lock],
        stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        before = sorted(os.listdir(run.work_dir))
        assert run.state() == 'running'
        out = io.StringIO()
        counts = Sweep([run], make_executor('local', str(tmp_path / 's'), 10),
                       poll_s=0.1, out=out).launch()
        assert counts['running_elsewhere'] == 1, out.getvalue()
        assert (counts['launched'], counts['done'], counts['skipped']) == \
            (0, 0, 0)
        assert f'running elsewhere (pid {holder.pid} on host ' in \
            out.getvalue()
        assert run.work_dir in out.getvalue()
        assert sorted(os.listdir(run.work_dir)) == before  # nothing written
        # the dry run says so too, without a command
        dry = subprocess.run(
            [sys.executable, osp.join(REPO, 'tools', 'sweep.py'), '--config',
             str(config), '--seeds', '0', '--work-root',
             str(tmp_path / 'sweep'), '--dry-run'], capture_output=True,
            text=True, timeout=120, cwd=REPO, env=env)
        assert dry.returncode == 0, dry.stderr
        assert f'# running elsewhere (pid {holder.pid}' in dry.stdout
        assert 'train.py' not in dry.stdout
    finally:
        holder.kill()
        holder.wait()
    assert run.state() == 'done'  # the holder is gone


def test_sweep_claim_is_exclusive_across_processes(tmp_path):
    from mbcd_mmaction.work_dir_lock import WorkDirLock, WorkDirLockedError
    config = tmp_path / 'tiny_sweep.py'
    config.write_text(CONFIG)
    run, = plan_config_runs(str(config), [0], str(tmp_path / 'sweep'))
    sweep = Sweep([run], None, out=io.StringIO())
    claim = sweep._claim(run)
    assert claim is not None and claim.held
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [REPO, os.environ.get('PYTHONPATH', '')]))
    other = subprocess.run(
        [sys.executable, '-c', LOCK_HOLDER, run.work_dir, 'sweep.lock'],
        capture_output=True, text=True, env=env, timeout=60)
    assert other.returncode != 0
    assert WorkDirLockedError.__name__ in other.stderr
    assert f'pid {os.getpid()}' in other.stderr
    claim.release()
    with WorkDirLock(run.work_dir, 'sweep.lock'):
        pass
