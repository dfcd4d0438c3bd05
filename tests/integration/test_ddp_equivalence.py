"""Distributed training is the same computation as one process.

Real runs of the demo config (MBCD with gradient-consistency
look-ahead, EMA teacher and distillation) on tiny generated data, started
through ``tools/dist_train.sh`` (torchrun, gloo on CPU) and ``tools/train.py``.
"""
import os.path as osp
import sys

import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.join(osp.dirname(HERE), 'engine'))
from mmdg_testutils import (data_options, dist_train_cmd, run,  # noqa: E402
                            train_cmd, write_config)

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow

# No randomness in training: the test pipeline (fixed clip sampling, centre
# crop, no flip/noise/band masking), no head dropout, fusion dropout off.
# BatchNorm of the trainable stages in eval mode: torch's SyncBatchNorm
# refuses CPU tensors, and per-rank batch statistics (8 vs 16 samples)
# would differ (see test_sync_bn.py for the conversion).
BODY = '''
model = dict(uni_head=dict(dropout_ratio=0.0),
             fused_head=dict(dropout_ratio=0.0), fusion=dict(mode='off'))
train_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
custom_hooks = [dict(type='TeacherUpdateHook'),
                dict(type='TrainableBatchNormEvalHook'),
                dict(type='RankStateDumpHook')]
'''
RTOL, ATOL = 1e-4, 1e-6
# Adam's update lr * m / (sqrt(v) + eps) normalises each element's gradient:
# where a gradient is tiny (|g| ~ 1e-6 and below) the float rounding of
# summing 16 samples in one process or 2 x 8 over two ranks is a visible
# part of the step. Measured: 418 of 22.9 M elements beyond RTOL/ATOL, the
# largest 7.6e-5 (lr 1e-3; with SGD the same comparison is within RTOL/ATOL
# everywhere). Since init_weights reaches the encoders (mmaction's own
# initialisation instead of torch's defaults) the largest is 2.0e-4. A
# sign flip of a noise-level gradient moves an element by up to 2 lr per
# Adam step, so MAX_ABS only catches gross errors; the outlier fraction and
# the loss trajectory are the sharp checks. So: every element within
# MAX_ABS, all but OUTLIER_FRACTION within RTOL/ATOL.
MAX_ABS, OUTLIER_FRACTION = 5e-4, 1e-4


def _dump(work, rank):
    return torch.load(osp.join(str(work), f'rank{rank}_final.pth'),
                      map_location='cpu', weights_only=True)


def max_abs_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k].double() - b[k].double()).abs().max().item()
               for k in a if a[k].is_floating_point())


def test_two_processes_batch8_equal_one_process_batch16(tiny_epic_root,
                                                        tmp_path):
    config = write_config(tmp_path, BODY)
    common = ['train_cfg.max_epochs=1', *data_options(tiny_epic_root)]
    ddp, single = tmp_path / 'ddp', tmp_path / 'single'
    run(dist_train_cmd(config, 2, ddp, *common,
                       'train_dataloader.batch_size=8',
                       extra_args=['--seed', '1']), tmp_path)
    run(train_cmd(config, single, *common, 'train_dataloader.batch_size=16',
                  extra_args=['--seed', '1']), tmp_path)

    r0, r1, ref = _dump(ddp, 0), _dump(ddp, 1), _dump(single, 0)
    assert (r0['world_size'], r1['world_size'], ref['world_size']) == \
        (2, 2, 1)
    # every rank ends with identical student and teacher weights
    for key, value in r0['state_dict'].items():
        assert torch.equal(value, r1['state_dict'][key]), key
    assert any(k.startswith('teacher.') for k in r0['state_dict'])

    # same loss trajectory: the global batch mean is the mean of the two
    # ranks' 8-sample means (equal counts)
    assert len(r0['log']) == len(ref['log']) == 2  # 32 clips / 16
    for it0, it1, it in zip(r0['log'], r1['log'], ref['log']):
        for key in ('loss', 'fused_loss_cls', 'loss_distill', 'rgb_loss_cls',
                    'flow_loss_cls', 'audio_loss_cls'):
            mean = (it0[key] + it1[key]) / 2
            assert abs(mean - it[key]) <= ATOL + RTOL * abs(it[key]), \
                (it['iter'], key, mean, it[key])
    # same final weights (student and teacher)
    diff = max_abs_diff(r0['state_dict'], ref['state_dict'])
    total = outside = 0
    for key, value in ref['state_dict'].items():
        got = r0['state_dict'][key]
        if not value.is_floating_point():
            assert torch.equal(got, value), key
            continue
        total += value.numel()
        outside += int((~torch.isclose(got, value, rtol=RTOL,
                                       atol=ATOL)).sum())
    print(f'2x8 vs 1x16: max abs difference {diff:.3e}; {outside} of '
          f'{total} elements beyond rtol {RTOL} / atol {ATOL}')
    assert diff <= MAX_ABS
    assert outside <= OUTLIER_FRACTION * total
