import copy

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

from . import tiny


def _reference(backbone, x):
    out = backbone(x)
    outs = out if isinstance(out, tuple) else (out,)
    pool = F.adaptive_avg_pool3d if outs[0].dim() == 5 else \
        F.adaptive_avg_pool2d
    return torch.cat([pool(o, 1).flatten(1) for o in outs], dim=1)


@pytest.mark.parametrize('modality', ['rgb', 'flow', 'audio'])
@pytest.mark.parametrize('trainable_stages', [1, 2])
def test_trunk_then_top_equals_backbone(modality, trainable_stages):
    cfg = tiny.ENCODERS[modality]()
    cfg['trainable_stages'] = trainable_stages
    enc = MODELS.build(cfg).eval()
    x = torch.randn(2, *tiny.SHAPES[modality])
    out = enc(x)
    assert out.shape == (2, enc.feat_dim)
    torch.testing.assert_close(out, _reference(enc.backbone, x))


def test_paper_encoders_feature_sizes():
    """The base config's encoders give the paper's 2304 / 2048 / 512."""
    from mmengine.config import Config
    cfg = Config.fromfile('configs/_base_/models/mm_encoders.py')
    dims = []
    for key in ('rgb_encoder', 'flow_encoder', 'audio_encoder'):
        enc_cfg = copy.deepcopy(cfg[key].to_dict())
        enc_cfg['pretrained'] = None  # no download in tests
        dims.append(MODELS.build(enc_cfg).feat_dim)
    assert dims == [2304, 2048, 512]


def test_only_top_stages_require_grad_and_trunk_stays_eval():
    enc = MODELS.build(tiny.slowfast_encoder())
    top = {id(p) for layer in enc.top_layers().values()
           for p in layer.parameters()}
    for p in enc.parameters():
        assert p.requires_grad == (id(p) in top)
    enc.train()
    assert not enc.backbone.slow_path.layer1.training
    assert not enc.backbone.slow_path.conv1.bn.training
    assert enc.backbone.slow_path.layer4.training
    assert enc.backbone.fast_path.layer4.training
    # the lateral connection before layer4 feeds the trunk side: frozen
    assert not enc.backbone.slow_path.layer3_lateral.training


def test_trunk_records_no_graph():
    enc = MODELS.build(tiny.audio_encoder())
    out = enc.forward_trunk(torch.randn(1, *tiny.SHAPES['audio']))
    assert not out.requires_grad


def test_bad_trainable_stages():
    cfg = tiny.audio_encoder()
    cfg['trainable_stages'] = 5
    with pytest.raises(ValueError, match='trainable_stages'):
        MODELS.build(cfg)


@pytest.mark.parametrize('modality', ['rgb', 'flow'])
def test_zoo_recognizer_checkpoint_loads_through_encoder_pretrained(
        modality, tmp_path):
    """MMAction2 zoo files are whole recognizers (backbone.*, cls_head.*):
    the paper config loads their backbone.* keys, as here."""
    source = MODELS.build(tiny.ENCODERS[modality]())
    ckpt = {f'backbone.{k}': v.clone() + 1
            for k, v in source.backbone.state_dict().items()}
    ckpt['cls_head.fc_cls.weight'] = torch.zeros(400, source.feat_dim)
    path = str(tmp_path / 'zoo.pth')
    torch.save({'state_dict': ckpt, 'meta': {}}, path)

    cfg = tiny.ENCODERS[modality]()
    cfg.update(pretrained=path, pretrained_prefix='backbone.')
    enc = MODELS.build(cfg)
    enc.init_weights()
    loaded = enc.backbone.state_dict()
    for key, value in ckpt.items():
        if key.startswith('backbone.'):
            torch.testing.assert_close(loaded[key[len('backbone.'):]], value)


def test_non_strict_loaders_are_refused_on_encoders():
    """mmengine's Pretrained init_cfg and the backbones' own pretrained=
    load with strict=False; encoders take pretrained= (strict) instead."""
    cfg = tiny.audio_encoder()
    cfg['init_cfg'] = dict(type='Pretrained', checkpoint='x.pth')
    with pytest.raises(ValueError, match='strict=False'):
        MODELS.build(cfg)
    cfg = tiny.audio_encoder()
    cfg['backbone']['pretrained'] = 'x.pth'
    with pytest.raises(ValueError, match='pretrained=<file>'):
        MODELS.build(cfg)
