"""tools/cache_benchmark.py run as a process on the demo configs: the live
run replays the views the cache stores, so with a float32 cache both runs
train identically (every epoch's loss, the target accuracy); a control
without the replay shows the losses are not equal by construction. No
timing assertions."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.mark.slow
def test_live_replay_trains_like_the_cache(tmp_path):
    work = tmp_path / 'bench'
    output = tmp_path / 'report.json'
    proc = subprocess.run(
        [sys.executable, 'tools/cache_benchmark.py', '--methods', 'mbcd',
         '--clips', '4', '--epochs', '2', '--batch-size', '2',
         '--frame-size', '64', '48', '--dtype', 'float32',
         '--config-pattern', 'configs/{method}/{method}_epic_demo.py',
         '--work-dir', str(work), '--output', str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(output.read_text())
    assert report['settings']['cache_dtype'] == 'float32'
    res = report['methods']['mbcd']
    live, cached = res['live'], res['cached']
    assert len(live['epoch_loss']) == len(cached['epoch_loss']) == 2
    # The cache wrote a fresh trunk output of the same view the live run
    # decodes: the same training up to floating point.
    assert res['max_epoch_loss_difference'] < 1e-5
    assert live['target_fused_top1'] == cached['target_fused_top1']
    assert res['epoch_speedup'] > 0 and res['cache_build_sec'] > 0
    header, row = proc.stdout.splitlines()[-2:]  # the table ends stdout
    assert header.split()[0] == 'method' and row.split()[0] == 'mbcd'

    # Control: live training with fresh augmentations (no replay) of the
    # same seed trains on other views, so its losses differ.
    import mbcd_mmaction.registration  # noqa: F401
    from mbcd_mmaction.benchmark.cache import _options, _run
    plain = _run(os.path.join(ROOT, 'configs', 'mbcd', 'mbcd_epic_demo.py'),
                 _options(str(work / 'data'), str(tmp_path / 'plain'), 2, 2,
                          0))
    assert max(abs(a - b) for a, b in zip(plain['epoch_loss'],
                                          cached['epoch_loss'])) > 1e-3
