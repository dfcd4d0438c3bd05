"""tools/collect_results.py and the offline selection rules on hand-made
work dirs: known per-seed numbers -> mean, sample std, layout; missing and
failed runs shown in their cells."""
import csv
import io
import json
import os
import os.path as osp
import subprocess
import sys

from mbcd_mmaction.experiments.collect import collect
from mbcd_mmaction.experiments.selection import (SELECTIONS, Oracle,
                                                 SourceValidation,
                                                 read_eval_log)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _result(root, run, seed, acc):
    work_dir = osp.join(root, run, f'seed{seed}')
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'target_results.json'), 'w') as f:
        json.dump(dict(test_metrics={'acc/fused_top1': acc}), f)
    return work_dir


def _runs(root):
    for seed, acc in enumerate((0.50, 0.52, 0.57)):
        _result(root, 'erm_epic_vaf/in_domain_D1', seed, acc)
        _result(root, 'erm_epic_vaf/in_domain_D2', seed, 0.70)
        _result(root, 'erm_epic_vaf/in_domain_D3', seed, 0.40)
    _result(root, 'mbcd_epic_vaf/in_domain_D1', 0, 0.60)
    _result(root, 'mbcd_epic_vaf/in_domain_D1', 1, 0.64)  # seed 2 missing
    failed = osp.join(root, 'mbcd_epic_vaf', 'in_domain_D2', 'seed0')
    os.makedirs(failed)
    with open(osp.join(failed, 'sweep_status.json'), 'w') as f:
        json.dump(dict(state='failed'), f)


def test_table_mean_sample_std_missing_and_failed(tmp_path):
    _runs(str(tmp_path))
    markdown, table_csv = collect(str(tmp_path), [3], [0, 1, 2],
                                  methods=['erm', 'mbcd'])
    lines = markdown.splitlines()
    assert lines[0] == '### Table 3'
    assert 'mean ± sample std (ddof=1) over seeds [0, 1, 2]' in lines[2]
    assert 'best source-validation accuracy' in lines[2]
    assert lines[4] == (
        '| Method | Video | Audio | Flow | EPIC-Kitchens D2,D3->D1 | '
        'EPIC-Kitchens D1,D3->D2 | EPIC-Kitchens D1,D2->D3 | '
        'EPIC-Kitchens Avg. |')
    # std of (50, 52, 57): sqrt((9 + 1 + 16) / 2) = sqrt(13) = 3.606
    # Avg. = (53 + 70 + 40) / 3
    assert lines[6] == ('| ERM | ✓ | ✓ | ✓ | 53.00 ± 3.61 (n=3) | '
                        '70.00 ± 0.00 (n=3) | 40.00 ± 0.00 (n=3) | 54.33 |')
    # (60, 64): mean 62, std sqrt(8) = 2.83; seed 2 has no work dir
    assert lines[7] == ('| MBCD | ✓ | ✓ | ✓ | 62.00 ± 2.83 (n=2) '
                        '[missing seed 2] | failed / missing | missing | — |')
    rows = list(csv.DictReader(io.StringIO(table_csv)))
    assert len(rows) == 6
    first = rows[0]
    assert (first['row'], first['column'], first['n'], first['mean'],
            first['std']) == ('ERM', 'D2,D3->D1', '3', '53.0000', '3.6056')
    assert first['values'] == '0:50.0000 1:52.0000 2:57.0000'
    failed = [r for r in rows if r['row'] == 'MBCD'
              and r['column'] == 'D1,D3->D2'][0]
    assert (failed['n'], failed['failed_seeds'], failed['missing_seeds']) \
        == ('0', '0', '1 2')


def _log(work_dir, rows):
    with open(osp.join(work_dir, 'eval_log.jsonl'), 'w') as f:
        for epoch, (val, target) in enumerate(rows, 1):
            f.write(json.dumps(dict(
                epoch=epoch, selected='teacher',
                val=dict(teacher={'acc/fused_top1': val},
                         student={'acc/fused_top1': 0.0}),
                target=dict(teacher={'acc/fused_top1': target},
                            student={'acc/fused_top1': 1.0}))) + '\n')


def test_selection_rules_and_oracle_table(tmp_path):
    work_dir = _result(str(tmp_path), 'erm_epic_vaf/in_domain_D1', 0, 0.5)
    # epochs: val 0.6, 0.8, 0.8, 0.7 (tied best: the later, epoch 3),
    # target best epoch 4
    _log(work_dir, [(0.6, 0.30), (0.8, 0.40), (0.8, 0.50), (0.7, 0.90)])
    with open(osp.join(work_dir, 'eval_log.jsonl'), 'a') as f:
        f.write('{"epoch": 5, "val"')  # torn line of a killed run
    records = read_eval_log(work_dir)
    assert [r['epoch'] for r in records] == [1, 2, 3, 4]
    chosen = SourceValidation().select(records)
    assert (chosen.epoch, chosen.val_score, chosen.target_score) == \
        (3, 0.8, 0.5)
    assert Oracle().select(records).epoch == 4
    assert Oracle().select(records, model='student').target_score == 1.0
    assert SELECTIONS['oracle'].oracle and not SELECTIONS['source_val'].oracle
    markdown, _ = collect(str(tmp_path), [3], [0], 'oracle',
                          methods=['erm'])
    assert 'ORACLE' in markdown
    assert '| ERM | ✓ | ✓ | ✓ | 90.00 ± — (n=1) |' in markdown


def test_tool_writes_files_without_torch(tmp_path):
    _runs(str(tmp_path))
    probe = (
        'import runpy, sys\n'
        f'sys.argv = ["x", "--work-root", {str(tmp_path)!r}, "--table", "3",'
        f' "4", "--out", {str(tmp_path / "tables")!r}]\n'
        'try:\n'
        '    runpy.run_path("tools/collect_results.py", run_name="__main__")\n'
        'except SystemExit:\n'
        '    pass\n'
        'print("TORCH" if "torch" in sys.modules else "NOTORCH")\n')
    out = subprocess.run([sys.executable, '-c', probe], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == 'NOTORCH'
    markdown = (tmp_path / 'tables.md').read_text()
    # every paper row, implemented or not
    for row in ('| ERM |', '| RNA-Net |', '| SimMMDG |', '| MOOSA |',
                '| CMRF |', '| MBCD |', '| EMA |', '| AMD + EMA |'):
        assert row in markdown
    assert (tmp_path / 'tables.csv').read_text().startswith('table,row,')


def _modality_result(root, run, seed, selected, last):
    """A run whose selected checkpoint and last epoch have the target
    accuracies ``selected`` / ``last`` (fused, rgb, audio, flow)."""
    def metrics(values):
        return {f'acc/{m}_top1': v for m, v in
                zip(('fused', 'rgb', 'audio', 'flow'), values)}
    work_dir = osp.join(root, run, f'seed{seed}')
    os.makedirs(work_dir, exist_ok=True)
    with open(osp.join(work_dir, 'target_results.json'), 'w') as f:
        json.dump(dict(test_metrics=metrics(selected), selection=dict(
            last_epoch=dict(epoch=20, target=metrics(last)))), f)


def test_per_modality_table_fused_minus_best_uni_per_seed(tmp_path):
    root = str(tmp_path)
    run = 'erm_epic_vaf/multi_source_D1'
    # seed 0: best uni is audio (0.50) -> fused - best = +10; seed 1: best
    # uni is rgb (0.70) -> -10: mean 0, std sqrt(200) = 14.14 (a mean of
    # fused minus a mean of maxima would give 65 - 60 = +5)
    _modality_result(root, run, 0, (0.60, 0.40, 0.50, 0.20),
                     (0.55, 0.40, 0.50, 0.20))
    _modality_result(root, run, 1, (0.60, 0.70, 0.30, 0.20),
                     (0.65, 0.70, 0.30, 0.20))
    markdown, table_csv = collect(root, [1], [0, 1, 2],
                                  methods=['erm', 'ema'], per_modality=True)
    lines = markdown.splitlines()
    # EMA has no run where ERM has one: named; the targets nobody ran are
    # only counted
    assert 'No run for: EMA (vaf) EPIC-Kitchens D2,D3->D1.' in lines
    assert lines[4] == ('| Method | Target | View | Fused | Video | Audio | '
                        'Flow | Fused − best uni |')
    # only the cell with runs; the table's other cells are counted
    assert len([line for line in lines if line.startswith('| ERM')]) == 2
    assert lines[-1].endswith('without any run (no work dir for any seed) '
                              'are left out.')
    assert lines[6] == (
        '| ERM | EPIC-Kitchens D2,D3->D1 | selected | '
        '60.00 ± 0.00 (n=2) [missing seed 2] | '
        '55.00 ± 21.21 (n=2) [missing seed 2] | '
        '40.00 ± 14.14 (n=2) [missing seed 2] | '
        '20.00 ± 0.00 (n=2) [missing seed 2] | '
        '0.00 ± 14.14 (n=2) [missing seed 2] |')
    # last epoch: fused (55, 65) minus best (50, 70): (+5, -5)
    assert lines[7].startswith('| ERM | EPIC-Kitchens D2,D3->D1 | '
                               'last epoch | 60.00 ± 7.07 (n=2)')
    assert lines[7].endswith('| 0.00 ± 7.07 (n=2) [missing seed 2] |')
    rows = list(csv.DictReader(io.StringIO(table_csv)))
    gap = [r for r in rows if r['view'] == 'selected'
           and r['quantity'] == 'fused - best uni'][0]
    assert gap['values'] == '0:10.0000 1:-10.0000'
    assert gap['missing_seeds'] == '2'
