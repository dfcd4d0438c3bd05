"""A run resumed from a checkpoint ends with the same weights (student and
EMA teacher) as the same run left uninterrupted."""
import json

import pytest
import torch

from .demo_utils import state_dict, train_demo

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow


def test_resumed_run_equals_uninterrupted_run(tiny_epic_root, tmp_path):
    full = tmp_path / 'full'
    train_demo(full, tiny_epic_root, 'train_cfg.max_epochs=2',
               'default_hooks.checkpoint.max_keep_ckpts=-1')
    first = tmp_path / 'first_half'
    train_demo(first, tiny_epic_root, 'train_cfg.max_epochs=1')
    resumed = tmp_path / 'resumed'
    train_demo(resumed, tiny_epic_root, 'train_cfg.max_epochs=2',
               extra_args=['--resume', str(first / 'epoch_1.pth')])

    expected = state_dict(full / 'epoch_2.pth')
    got = state_dict(resumed / 'epoch_2.pth')
    assert expected.keys() == got.keys()
    assert any(k.startswith('teacher.') for k in got)
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    # the second epoch really trained: epoch 1 and 2 weights differ, and
    # the teacher counted every step of both halves
    mid = state_dict(full / 'epoch_1.pth')
    assert not torch.equal(mid['fused_head.layers.0.weight'],
                           got['fused_head.layers.0.weight'])
    assert int(got['teacher.steps']) == int(expected['teacher.steps']) \
        > int(mid['teacher.steps']) > 0
    # the resumed run's eval log starts with the first half's epoch, so
    # its selection report covers the run as the uninterrupted one's does
    from mbcd_mmaction.experiments.selection import read_eval_log
    assert [r['epoch'] for r in read_eval_log(str(resumed))] == \
        [r['epoch'] for r in read_eval_log(str(full))] == [1, 2]
    report = json.loads((resumed / 'target_results.json').read_text())
    expected_report = json.loads((full / 'target_results.json').read_text())
    assert report['selection']['tied_epochs'] == \
        expected_report['selection']['tied_epochs']
    assert report['selection']['num_validations'] == 2
