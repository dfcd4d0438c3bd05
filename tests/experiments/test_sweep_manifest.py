"""A sweep's runs can be found again and cannot be mixed up: work dirs
cover every added option, a finished run of other arguments is an error,
and collect reads what the sweep recorded."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from mbcd_mmaction.experiments.sweep import (RunConflictError, build_parser,
                                             plan_config_runs, plan_from_args,
                                             record_sweep)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GRID = ['--table', '3', '--method', 'erm', '--dataset', 'epic',
        '--modalities', 'vaf']


def _tool(name, *args):
    return subprocess.run([sys.executable, osp.join(REPO, 'tools', name),
                           *args], capture_output=True, text=True,
                          timeout=120, cwd=REPO)


def _finish(run, acc, options=None):
    """target_results.json as tools/train.py writes it for ``run``."""
    os.makedirs(run.work_dir, exist_ok=True)
    command = [run.config, '--work-dir', run.work_dir, '--seed',
               str(run.seed), '--cfg-options',
               *(run.options if options is None else options)]
    with open(osp.join(run.work_dir, 'target_results.json'), 'w') as f:
        json.dump(dict(test_metrics={'acc/fused_top1': acc},
                       command=command,
                       config_file=osp.join(REPO, run.config)), f)


def test_runs_that_differ_in_any_option_get_their_own_dirs(tmp_path):
    plain, = plan_config_runs('configs/rna/rna_epic.py', [0], str(tmp_path))
    split, = plan_config_runs('configs/rna/rna_epic.py', [0], str(tmp_path),
                              ['per_split=True'])
    other, = plan_config_runs('configs/rna/rna_epic.py', [0], str(tmp_path),
                              ['per_split=True', 'lr=0.01'])
    assert len({plain.work_dir, split.work_dir, other.work_dir}) == 3
    assert plain.work_dir == str(tmp_path / 'rna_epic' / 'default' / 'seed0')
    # the grid's runs likewise
    args = build_parser().parse_args(
        GRID + ['--seeds', '0', '--work-root', str(tmp_path),
                '--cfg-options', 'train_cfg.max_epochs=5'])
    budget = plan_from_args(args)
    args = build_parser().parse_args(GRID + ['--seeds', '0', '--work-root',
                                             str(tmp_path)])
    full = plan_from_args(args)
    assert not {r.work_dir for r in budget} & {r.work_dir for r in full}


def test_a_finished_run_of_other_arguments_is_an_error_not_a_skip(tmp_path):
    args = GRID + ['--seeds', '0', '--work-root', str(tmp_path)]
    runs = plan_from_args(build_parser().parse_args(args))
    _finish(runs[0], 0.5)  # this very run, done
    _finish(runs[1], 0.5, options=[*runs[1].options, 'per_split=True'])
    assert runs[0].state() == 'done'
    with pytest.raises(RunConflictError, match='per_split=True'):
        runs[1].state()
    out = _tool('sweep.py', *args, '--dry-run')
    assert out.returncode != 0
    assert 'holds a run of other arguments' in out.stderr
    assert runs[1].work_dir in out.stderr


def test_collect_reads_the_sweep_manifest(tmp_path):
    root = str(tmp_path)
    args = GRID + ['--seeds', '4', '5', '--work-root', root,
                   '--cfg-options', 'train_cfg.max_epochs=2']
    runs = plan_from_args(build_parser().parse_args(args))
    record_sweep(root, runs, dict(
        tables=['3'], methods=['erm'], datasets=['epic'], seeds=[4, 5],
        config_pattern=None, config=None,
        cfg_options=['train_cfg.max_epochs=2']))
    for run in runs:
        _finish(run, 0.5 if run.seed == 4 else 0.7)
    # a finished run the manifest does not know
    stray = osp.join(root, 'mbcd_epic_vaf', 'in_domain_D1', 'seed0')
    os.makedirs(stray)
    with open(osp.join(stray, 'target_results.json'), 'w') as f:
        json.dump(dict(test_metrics={'acc/fused_top1': 0.9}), f)

    out = _tool('collect_results.py', '--work-root', root)
    assert out.returncode == 0, out.stderr
    assert '| ERM | ✓ | ✓ | ✓ | 60.00 ± 14.14 (n=2) |' in out.stdout
    assert 'train_cfg.max_epochs=2' in out.stdout
    assert '1 finished run(s)' in out.stderr
    assert 'mbcd_epic_vaf/in_domain_D1/seed0' in out.stderr
    # given the defaults explicitly, the cells are missing and every
    # finished run is named as matching none
    out = _tool('collect_results.py', '--work-root', root, '--table', '3',
                '--method', 'erm')
    assert '(n=2)' not in out.stdout
    assert '7 finished run(s)' in out.stderr


def test_collect_shows_every_method_of_two_sweeps_on_one_root(tmp_path):
    """Two launches with other --method on one root: both methods' rows."""
    from mbcd_mmaction.experiments.collect import collect_manifest
    root = str(tmp_path)
    for method, acc in (('erm', 0.5), ('mbcd', 0.7)):
        args = ['--table', '3', '--method', method, '--dataset', 'epic',
                '--modalities', 'vaf', '--seeds', '0', '--work-root', root]
        runs = plan_from_args(build_parser().parse_args(args))
        record_sweep(root, runs, dict(
            tables=['3'], methods=[method], datasets=['epic'], seeds=[0],
            config_pattern=None, config=None, cfg_options=[]))
        for run in runs:
            _finish(run, acc)
    markdown, _, warning = collect_manifest(root)
    assert '| ERM | ✓ | ✓ | ✓ | 50.00 ± — (n=1) |' in markdown
    assert '| MBCD | ✓ | ✓ | ✓ | 70.00 ± — (n=1) |' in markdown
    assert warning is None
