"""SyncBN under DDP (``sync_bn='torch'``): what mmengine converts in the
real recognizer, and that only the trainable stages' BN would synchronise.

The synchronising forward itself is GPU-only (torch's SyncBatchNorm refuses
CPU tensors); on CPU ``configure_device`` refuses the setting up front."""
import os.path as osp
import sys

import pytest
import torch
import torch.nn as nn

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.join(osp.dirname(HERE), 'engine'))
from mmdg_testutils import DEMO_CONFIG  # noqa: E402

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def converted():
    import mbcd_mmaction.registration  # noqa: F401  (registers every component)
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from mmengine.model import convert_sync_batchnorm
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    cfg = Config.fromfile(DEMO_CONFIG)
    model = MODELS.build(cfg.model)
    model.init_weights()
    n_bn = sum(isinstance(m, nn.modules.batchnorm._BatchNorm)
               for m in model.modules())
    # what Runner.wrap_model does when cfg.sync_bn='torch' and distributed
    model = convert_sync_batchnorm(model, 'torch')
    return model, n_bn


def _trainable_bn_ids(model):
    return {id(m) for enc in model.encoders.values()
            for layer in enc.top_layers().values() for m in layer.modules()
            if isinstance(m, nn.SyncBatchNorm)}


def test_every_bn_is_converted(converted):
    model, n_bn = converted
    sync = [m for m in model.modules() if isinstance(m, nn.SyncBatchNorm)]
    plain = [m for m in model.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm)
             and not isinstance(m, nn.SyncBatchNorm)]
    assert len(sync) == n_bn > 0 and not plain


def test_only_trainable_stages_synchronise(converted):
    model, _ = converted
    model.train()
    trainable = _trainable_bn_ids(model)
    assert trainable
    teacher = {id(m) for m in model.teacher.modules()}
    for m in model.modules():
        if not isinstance(m, nn.SyncBatchNorm):
            continue
        # SyncBatchNorm only communicates in training mode; the frozen trunk
        # and the EMA teacher stay in eval mode (running statistics)
        assert m.training == (id(m) in trainable), m
        if id(m) in teacher:
            assert not m.training
        if id(m) in trainable:
            assert m.weight.requires_grad


def test_teacher_still_follows_converted_student(converted):
    model, _ = converted
    enc = model.encoders['audio']
    bn = next(m for layer in enc.top_layers().values()
              for m in layer.modules() if isinstance(m, nn.SyncBatchNorm))
    name = next(n for n, m in model.named_modules() if m is bn)
    teacher_key = 'teacher.module.tops.audio.' + name.split(
        'encoders.audio.backbone.', 1)[1] + '.weight'
    before = model.state_dict()[teacher_key].clone()
    with torch.no_grad():
        bn.weight.add_(1.0)
    model.update_teacher()
    after = model.state_dict()[teacher_key]
    assert not torch.equal(before, after)


def test_cpu_distributed_refuses_sync_bn():
    from mmengine.config import Config

    from mbcd_mmaction.apis import configure_device
    if torch.cuda.is_available():
        pytest.skip('CPU-only behaviour')
    cfg = Config(dict(launcher='pytorch', sync_bn='torch'))
    with pytest.raises(ValueError, match='GPU'):
        configure_device(cfg)
    configure_device(Config(dict(launcher='none', sync_bn='torch')))
    configure_device(Config(dict(launcher='pytorch', sync_bn=None)))
