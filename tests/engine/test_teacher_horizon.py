"""TeacherUpdateHook's horizons relative to the run (the demo configs' rule:
EMA horizon 1/8 of training, CMRF's t0 1/20), resolved from the run's length
in iterations when training starts."""
import pytest
import torch
from mmengine.config import Config
from mmengine.model import ExponentialMovingAverage
from mmengine.registry import MODELS
from mmengine.runner import Runner

import tiny_components  # noqa: F401  (registers TinyDataset, TinyNet)
from tiny_components import TinyNet
from mbcd_mmaction.engine.hooks import TeacherUpdateHook
from mbcd_mmaction.engine.hooks.teacher_update_hook import teacher_schedule
from mbcd_mmaction.models.modules.averaged_model import SimpleMovingAverage


@MODELS.register_module(force=True)
class TinyTeacherNet(TinyNet):
    """TinyNet with an averaged teacher of its weights (as the recognizers
    hold theirs), moved by ``update_teacher``."""

    def __init__(self, teacher: str = 'ema', **kwargs):
        super().__init__(**kwargs)
        self.teacher = (ExponentialMovingAverage(self.fc, momentum=0.001)
                        if teacher == 'ema' else
                        SimpleMovingAverage(self.fc, start_step=400))

    def update_teacher(self):
        self.teacher.update_parameters(self.fc)


def _train(tmp_path, teacher, max_epochs, **hook):
    # 16 clips, batch 4: 4 iterations per epoch
    loader = dict(dataset=dict(type='TinyDataset', length=16),
                  sampler=dict(type='DefaultSampler', shuffle=True),
                  batch_size=4, num_workers=0,
                  collate_fn=dict(type='default_collate'))
    cfg = Config(dict(
        model=dict(type='TinyTeacherNet', teacher=teacher),
        work_dir=str(tmp_path / f'{teacher}{max_epochs}'),
        train_dataloader=loader,
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        custom_hooks=[dict(type='TeacherUpdateHook', **hook)],
        default_hooks=dict(checkpoint=None, logger=None), log_level='WARNING',
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        randomness=dict(seed=0), launcher='none', default_scope='mmaction'))
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner.model.teacher


@pytest.mark.parametrize('max_epochs', [2, 5])
def test_ema_momentum_follows_the_run_length(tmp_path, max_epochs):
    teacher = _train(tmp_path, 'ema', max_epochs, horizon_fraction=1 / 4)
    iters = 4 * max_epochs
    assert teacher.momentum == pytest.approx(1 / (iters / 4))
    assert int(teacher.steps) == iters


@pytest.mark.parametrize('max_epochs', [5, 10])
def test_sma_start_step_follows_the_run_length(tmp_path, max_epochs):
    teacher = _train(tmp_path, 'sma', max_epochs, start_fraction=1 / 20)
    assert teacher.start_step == round(4 * max_epochs / 20)


def test_without_fractions_the_configured_values_stay(tmp_path):
    assert _train(tmp_path, 'ema', 2).momentum == 0.001


def test_a_fraction_the_teacher_cannot_take_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match='start_fraction.*start_step.*'
                       'ExponentialMovingAverage does not'):
        _train(tmp_path, 'ema', 2, start_fraction=0.1)


def test_schedule_values():
    # the demo: 20 epochs x 8 iterations; the paper: beta 0.999 = 1/8 of
    # 8,000 iterations, t0 = 400 = 1/20
    assert teacher_schedule(160, 1 / 8, 1 / 20) == dict(
        momentum=pytest.approx(0.05), start_step=8)
    assert teacher_schedule(320, 1 / 8, 1 / 20) == dict(
        momentum=pytest.approx(0.025), start_step=16)
    assert teacher_schedule(8000, 1 / 8, 1 / 20) == dict(
        momentum=pytest.approx(0.001), start_step=400)
    # a horizon under one iteration (a smoke run): the teacher copies
    assert teacher_schedule(4, 1 / 8) == dict(momentum=1.0)
    with pytest.raises(ValueError, match='horizon_fraction=2'):
        TeacherUpdateHook(horizon_fraction=2)
    with pytest.raises(ValueError, match='start_fraction=1'):
        TeacherUpdateHook(start_fraction=1)


@pytest.mark.parametrize('config,key,fraction', [
    ('configs/mbcd/mbcd_epic_demo.py', 'horizon_fraction', 1 / 8),
    ('configs/mbcd/mbcd_gmp_epic_demo.py', 'horizon_fraction', 1 / 8),
    ('configs/ema/ema_epic_demo.py', 'horizon_fraction', 1 / 8),
    ('configs/mbcd/mbcd_hac_demo.py', 'horizon_fraction', 1 / 8),
    ('configs/cmrf/cmrf_epic_demo.py', 'start_fraction', 1 / 20),
    ('configs/cmrf/cmrf_gmp_epic_demo.py', 'start_fraction', 1 / 20),
])
def test_demo_configs_state_the_rule(config, key, fraction):
    hooks = [h for h in Config.fromfile(config).custom_hooks
             if h.type == 'TeacherUpdateHook']
    assert len(hooks) == 1 and hooks[0][key] == pytest.approx(fraction)
