"""The controlled scenario end to end (docs/experiments.md, "Controlled
scenarios"): the generator's imbalance scenario, then tools/sweep.py over
the ERM and MBCD demo configs with ``data_root`` set to it (2 runs, real
Runner, dataset and models, submitit's local executor)."""
import glob
import json
import os.path as osp

import pytest

from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens
from mbcd_mmaction.experiments.collect import collect_manifest
from mbcd_mmaction.experiments.sweep import main as sweep_main


@pytest.mark.slow
def test_imbalance_scenario_sweep_of_erm_and_mbcd(tmp_path):
    root = str(tmp_path / 'epic_imbalance')
    generate_epic_kitchens(root, scenario='imbalance',
                           clips_per_split={'train': 16, 'test': 8},
                           target_test_clips=16)
    options = [f'data_root={root}', 'train_cfg.max_epochs=2',
               'train_dataloader.batch_size=4']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [f'{loader}.num_workers=0',
                    f'{loader}.persistent_workers=False']
    work_root = str(tmp_path / 'sweep')
    assert sweep_main([
        '--table', '1', '--method', 'erm', 'mbcd', '--dataset', 'epic',
        '--modalities', 'vaf', '--domain', 'D1', '--config-pattern',
        'configs/{family}/{method}_{dataset}_demo.py', '--seeds', '0',
        '--jobs', '1', '--work-root', work_root, '--cfg-options',
        *options]) == 0
    results = sorted(glob.glob(osp.join(
        work_root, '*', '*', 'opts_*', 'seed0', 'target_results.json')))
    assert [osp.relpath(p, work_root).split(osp.sep)[0]
            for p in results] == [
        'erm_epic_demo_vaf', 'mbcd_epic_demo_vaf']
    for path in results:
        saved = json.load(open(path))
        assert saved['target_domain'] == 'D1'
        selection = saved['selection']
        assert selection['num_validations'] == 2
        assert saved['best_epoch'] in selection['tied_epochs']
        assert selection['last_epoch']['epoch'] == 2
        assert 'acc/fused_top1' in selection['last_epoch']['target']
    # MBCD's teacher horizon: 1/8 of 2 epochs x 8 iterations
    logs = glob.glob(osp.join(osp.dirname(results[1]), '*', '*.log'))
    text = ''.join(open(p).read() for p in logs)
    assert 'teacher momentum = 0.5 (horizon_fraction of 16 iterations)' in \
        text
    # the documented report: both runs, fused and per modality, selected
    # and last epoch, read through the sweep's manifest
    markdown, _, warning = collect_manifest(work_root, per_modality=True)
    assert warning is None
    rows = [line for line in markdown.splitlines()
            if line.startswith(('| ERM |', '| MBCD |'))]
    assert [row.split(' | ')[2] for row in rows] == [
        'selected', 'last epoch'] * 2, markdown
    assert all('(n=1)' in row for row in rows), markdown
