"""The baselines' demo configs through the real training path on small
generated EPIC data: CMRF (averaged teacher, its hook, teacher accuracy
beside the student's) resumes exactly; MOOSA + GMP trains and tests."""
import os.path as osp

import pytest
import torch

from .demo_utils import ROOT, state_dict, train_demo

CMRF_DEMO = osp.join(ROOT, 'configs', 'cmrf', 'cmrf_epic_demo.py')
MOOSA_GMP_DEMO = osp.join(ROOT, 'configs', 'moosa', 'moosa_gmp_epic_demo.py')


@pytest.mark.slow
def test_cmrf_demo_resumes_exactly_and_reports_both(tiny_epic_root,
                                                    tmp_path):
    # 32 training clips, batch 16: 2 steps an epoch; t0 = 1, so the
    # distillation runs from the second step on
    opts = ('model.teacher.start_step=1',)
    full = train_demo(tmp_path / 'full', tiny_epic_root,
                      'train_cfg.max_epochs=2',
                      'default_hooks.checkpoint.max_keep_ckpts=-1', *opts,
                      config=CMRF_DEMO)
    metrics = full['test_metrics']
    assert {'acc/fused_top1', 'acc/teacher_fused_top1'} <= set(metrics)
    train_demo(tmp_path / 'first', tiny_epic_root, 'train_cfg.max_epochs=1',
               *opts, config=CMRF_DEMO)
    train_demo(tmp_path / 'resumed', tiny_epic_root,
               'train_cfg.max_epochs=2', *opts, config=CMRF_DEMO,
               extra_args=['--resume',
                           str(tmp_path / 'first' / 'epoch_1.pth')])
    expected = state_dict(tmp_path / 'full' / 'epoch_2.pth')
    got = state_dict(tmp_path / 'resumed' / 'epoch_2.pth')
    assert expected.keys() == got.keys()
    assert any(k.startswith('teacher.module.projections.') for k in got)
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    assert int(got['teacher.steps']) == 4
    # after t0 the teacher is the mean of the students, not the student
    assert not torch.equal(got['teacher.module.fused_head.layers.0.weight'],
                           got['fused_head.layers.0.weight'])


@pytest.mark.slow
def test_moosa_gmp_demo_trains_and_tests(tiny_epic_root, tmp_path):
    result = train_demo(tmp_path / 'moosa_gmp', tiny_epic_root,
                        'train_cfg.max_epochs=1', config=MOOSA_GMP_DEMO)
    assert 0.0 <= result['test_metrics']['acc/fused_top1'] <= 100.0
    weights = state_dict(tmp_path / 'moosa_gmp' / 'epoch_1.pth')
    assert any(k.startswith('jigsaw.') for k in weights)
    assert any(k.startswith('gradient_modulation.') for k in weights)
