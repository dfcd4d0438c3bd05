"""A result says what produced it, and a resume cannot change the
experiment: tools/train.py on generated EPIC-layout data."""
import hashlib
import json
import os.path as osp
import runpy
import subprocess

import pytest

from .demo_utils import DEMO_CONFIG, ROOT, data_options

# Real runners, decoding and checkpoints: the slow tier.
pytestmark = pytest.mark.slow

TRAIN = runpy.run_path(osp.join(ROOT, 'tools', 'train.py'))['main']


def _train(work_dir, data_root, *options, extra_args=()):
    TRAIN([DEMO_CONFIG, '--work-dir', str(work_dir), '--seed', '3',
           *extra_args, '--cfg-options', 'log_level=WARNING',
           *data_options(data_root), *options])


def test_results_and_eval_log_say_what_produced_them(tiny_epic_root,
                                                     tmp_path):
    work = tmp_path / 'run'
    _train(work, tiny_epic_root, 'target_domain=D1', 'modalities=va',
           'train_cfg.max_epochs=1')
    results = json.loads((work / 'target_results.json').read_text())
    experiment = results['experiment']
    assert experiment['protocol'] == 'multi_source'
    assert experiment['train'] == dict(domains=['D2', 'D3'], split='train')
    assert experiment['test'] == dict(domains=['D1'], split='test')
    assert experiment['modalities'] == ['rgb', 'audio']
    assert results['options']['target_domain'] == 'D1'
    assert results['options']['train_cfg.max_epochs'] == 1
    assert results['seed'] == 3
    commit = subprocess.run(['git', '-C', ROOT, 'rev-parse', 'HEAD'],
                            capture_output=True, text=True).stdout.strip()
    assert results['code']['git_commit'] == commit
    assert results['code']['mbcd_mmaction']
    with open(results['best_checkpoint'], 'rb') as f:
        assert results['checkpoint_sha256'] == \
            hashlib.sha256(f.read()).hexdigest()
    assert 'later epoch' in results['selection']['rule']
    lines = (work / 'eval_log.jsonl').read_text().splitlines()
    assert len(lines) == 1
    for line in map(json.loads, lines):
        assert line['run']['experiment'] == experiment
        assert line['run']['options'] == results['options']
        assert line['run']['seed'] == 3
        assert line['run']['git_commit'] == commit

    # resuming the D1 run as a D2 run is refused, naming both
    with pytest.raises(ValueError, match=r"trained for .*test=\{'domains': "
                       r"\['D1'\].* asks for .*test=\{'domains': \['D2'\]"):
        _train(work, tiny_epic_root, 'target_domain=D2', 'modalities=va',
               'train_cfg.max_epochs=2', extra_args=['--resume'])

