"""tools/gpu_check.sh: on a machine without CUDA it says it needs one and
exits 0; its summary names a step that left no output. (The summary of
real benchmark output is checked in test_benchmark.py's smoke run.)"""
import os
import subprocess
import sys

import pytest
import torch

from mbcd_mmaction.benchmark.gpu_check import main, summarize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, 'tools', 'gpu_check.sh')


def test_script_parses():
    subprocess.run(['bash', '-n', SCRIPT], check=True)


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is here')
def test_without_cuda_it_says_so_and_exits_0(tmp_path):
    proc = subprocess.run(['bash', SCRIPT, str(tmp_path / 'out')],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHON=sys.executable))
    assert proc.returncode == 0, proc.stderr
    assert 'needs a CUDA GPU' in proc.stdout
    assert not (tmp_path / 'out').exists()  # nothing ran


def test_without_torch_it_fails_with_advice(tmp_path):
    proc = subprocess.run(['bash', SCRIPT], capture_output=True, text=True,
                          timeout=60, env=dict(os.environ, PYTHON='false'))
    assert proc.returncode == 1
    assert 'cannot import torch' in proc.stderr


def test_summary_names_the_missing_steps(tmp_path, capsys):
    summary = summarize(str(tmp_path))
    assert summary['ok'] is False
    assert 'steps.json missing' in \
        summary['every_method_bf16_channels_last']['error']
    assert 'no ddp.rc' in summary['ddp_nccl_2_vs_1']['error']
    (tmp_path / 'ddp.rc').write_text('1\n')
    (tmp_path / 'ddp.log').write_text('1 failed\n')
    assert summarize(str(tmp_path))['ddp_nccl_2_vs_1'] == dict(
        ok=False, returncode=1, tail=['1 failed'])
    with pytest.raises(SystemExit, match='OUT_DIR'):
        main([str(tmp_path / 'absent')])
