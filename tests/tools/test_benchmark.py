"""tools/benchmark.py --smoke as CI runs it: a process printing one JSON
object (--json) with every figure, the same JSON in --output, and the table
the terminal shows for it (no timing assertions)."""
import json
import os
import subprocess
import sys

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.mark.slow
def test_benchmark_smoke_prints_every_figure(tmp_path):
    output = tmp_path / 'benchmark.json'
    proc = subprocess.run(
        [sys.executable, 'tools/benchmark.py', '--smoke', '--json',
         '--output', str(output), '--loader-workers', '0', '1'], cwd=ROOT,
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert json.loads(output.read_text()) == out
    assert out['errors'] == []
    assert {'machine', 'settings', 'methods', 'data'} <= set(out)
    methods = out['methods']
    # Discovered from configs/: the grid's methods, EMA, GMP, MBCD+GMP and
    # every MBCD Table 4/5 ablation.
    assert {'erm', 'ema', 'mbcd', 'gmp', 'mbcd_gmp', 'table4_ema_epic_af',
            'table4_ema_amd_epic_af', 'table4_ema_gcc_epic_af',
            'table4_ema_dl_epic_af', 'table5_nodrop_epic_af',
            'table5_fixdrop_epic_af'} <= set(methods)
    assert methods['erm']['ratio_to_erm'] == 1.0
    for name, res in methods.items():
        assert res['sec_per_iter'] > 0 and res['ratio_to_erm'] > 0, name
        assert set(res['split_sec']) == {
            'trunk', 'top_fwd', 'top_bwd', 'other', 'ema_update',
            'optimizer_step', 'total'}, name
        assert res['peak_memory_bytes'] > 0, name
        assert 'extra_method_sec' in res
    # Teachers average the trainable parts only: fewer parameters than the
    # student (which holds the frozen trunks); none without a teacher.
    assert 0 < methods['mbcd']['teacher_params_vs_student'] < 1
    assert methods['erm']['teacher_params'] == 0
    # GCC's look-ahead runs the top stages a second time (MBCD), and GMP
    # differentiates the task losses separately.
    assert methods['mbcd']['top_stage_passes_fwd'] == 2
    assert methods['mbcd']['top_stage_passes_bwd'] == 2
    assert methods['erm']['top_stage_passes_fwd'] == 1
    # ... and its batched backward carries two gradients (grad CE_k and the
    # uni-modal distillation's), the final backward one.
    assert methods['mbcd']['top_stage_gradients_bwd'] == 3
    assert methods['erm']['top_stage_gradients_bwd'] == 1
    data = out['data']
    for source in ('epic_frames_jpg', 'epic_clips_decord', 'hac_mp4_decord'):
        rates = data['clips_per_sec_per_worker'][source]
        assert set(rates) == {'rgb', 'flow', 'audio', 'all'}
        assert all(r > 0 for r in rates.values())
    decoders = data['decoder_clips_per_sec']
    assert decoders['decord'] > 0
    assert set(decoders) >= {'decord', 'av', 'torchcodec'}

    loader = data['loader_clips_per_sec']
    assert set(loader['by_workers']) == {'0', '1'}
    assert all(r > 0 for r in loader['by_workers'].values())

    # What the terminal shows without --json: one row per method.
    from mbcd_mmaction.benchmark.report import format_report
    lines = format_report(out).splitlines()
    header = next(i for i, line in enumerate(lines)
                  if line.startswith('method'))
    assert lines[header].split()[:6] == [
        'method', 's/iter', 'x', 'ERM', 'passes', 'fwd/bwd']
    rows = {line.split()[0]: line.split()
            for line in lines[header + 2:header + 2 + len(methods)]}
    assert set(rows) == set(methods)
    assert rows['erm'][2] == '1.00' and rows['erm'][3] == '1/1'
    assert rows['mbcd'][3] == '2/2'
    assert any(line.startswith('epic_frames_jpg') for line in lines)

    # tools/gpu_check.sh's summary of the same JSON (as steps and full
    # benchmark; a one-GPU machine skips the NCCL step).
    from mbcd_mmaction.benchmark.gpu_check import summarize
    for name in ('steps.json', 'full.json'):
        (tmp_path / name).write_text(output.read_text())
    (tmp_path / 'ddp.skipped').write_text('1 GPU(s) visible')
    summary = summarize(str(tmp_path))
    assert summary['ok'] is True
    assert summary['ddp_nccl_2_vs_1'] == dict(ok=None,
                                              skipped='1 GPU(s) visible')
    full = summary['benchmark_full']
    assert full['methods']['mbcd']['top_stage_passes_bwd'] == 2
    assert full['methods']['mbcd']['top_stage_gradients_bwd'] == 3
    assert set(full['loader_clips_per_sec']['by_workers']) == {'0', '1'}


def test_stops_with_advice_before_the_host_runs_out_of_memory(monkeypatch):
    from mbcd_mmaction.benchmark import training
    monkeypatch.setattr(training, 'MIN_AVAILABLE_BYTES', 1 << 60)
    methods = training.discover_methods(os.path.join(ROOT, 'configs'))
    with pytest.raises(training.HostMemoryExhausted,
                       match=r'1 of 1 methods held \(erm\).*--methods'):
        training.benchmark_methods(
            dict(erm=methods['erm']), training.SHAPES['smoke'],
            ('rgb', 'flow', 'audio'), 2, 0, 1, 1, torch.device('cpu'),
            False, False, False, smoke=True)
