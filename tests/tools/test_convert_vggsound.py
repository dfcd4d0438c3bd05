"""VGGSound ResNet-18 -> mmaction ResNet(depth=18, in_channels=1).

The fake checkpoint has the real file's structure: ``{'model_state_dict':
AVENet.state_dict()}`` where ``AVENet.audnet`` is VGGSound's torchvision-style
ResNet-18 with a 1-channel conv1 and a 309-class fc (hche11/VGGSound
``model.py``/``models/resnet.py``), written here again with torch.nn only.
"""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from torch import nn

import mbcd_mmaction.registration  # noqa: F401  (registers every component)
from mbcd_mmaction.models.encoders.vggsound import (
    VGGSoundConversionError, convert_vggsound_state_dict)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class Block(nn.Module):

    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + identity)


class VGGSoundResNet18(nn.Module):
    """Reference: conv1 (1 channel, 7x7/2), bn1, maxpool, 4 stages, fc."""

    def __init__(self, num_classes=309):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for i, planes in enumerate((64, 128, 256, 512)):
            stride = 1 if i == 0 else 2
            setattr(self, f'layer{i + 1}', nn.Sequential(
                Block(inplanes, planes, stride), Block(planes, planes, 1)))
            inplanes = planes
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, num_classes)

    def features(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        for i in range(1, 5):
            x = getattr(self, f'layer{i}')(x)
        return x


class AVENet(nn.Module):

    def __init__(self):
        super().__init__()
        self.audnet = VGGSoundResNet18()


def _fake_vggsound(seed=0):
    torch.manual_seed(seed)
    net = AVENet()
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if t.dtype.is_floating_point:
                t.copy_(torch.rand_like(t) + 0.5 if 'running_var' in name
                        else torch.randn_like(t) * 0.1)
            else:
                t.fill_(seed + 7)
    return net.eval(), {'model_state_dict': net.state_dict()}


def _mmaction_resnet18(**kwargs):
    from mmaction.models.backbones import ResNet
    return ResNet(depth=18, in_channels=1, **kwargs)


def test_real_key_names_and_shapes():
    _, ckpt = _fake_vggsound()
    sd = ckpt['model_state_dict']
    assert sd['audnet.conv1.weight'].shape == (64, 1, 7, 7)
    assert sd['audnet.fc.weight'].shape == (309, 512)
    assert sd['audnet.layer2.0.downsample.0.weight'].shape == (128, 64, 1, 1)
    assert 'audnet.layer4.1.bn2.num_batches_tracked' in sd
    assert len([k for k in sd if k.startswith('audnet.')]) == len(sd) == 122


@pytest.mark.parametrize('legacy_format', [False, True])
def test_convert_load_strict_and_same_outputs(tmp_path, legacy_format):
    net, ckpt = _fake_vggsound()
    path = str(tmp_path / 'H.pth.tar')
    torch.save(ckpt, path, _use_new_zipfile_serialization=not legacy_format)
    loaded = torch.load(path, map_location='cpu', weights_only=True)
    converted = convert_vggsound_state_dict(loaded)

    src = ckpt['model_state_dict']
    assert 'fc.weight' not in converted
    assert torch.equal(converted['conv1.conv.weight'],
                       src['audnet.conv1.weight'])
    assert torch.equal(converted['conv1.bn.running_mean'],
                       src['audnet.bn1.running_mean'])
    assert torch.equal(converted['layer2.0.downsample.conv.weight'],
                       src['audnet.layer2.0.downsample.0.weight'])
    assert torch.equal(converted['layer3.0.downsample.bn.running_var'],
                       src['audnet.layer3.0.downsample.1.running_var'])
    assert torch.equal(converted['layer4.1.conv2.bn.weight'],
                       src['audnet.layer4.1.bn2.weight'])

    model = _mmaction_resnet18()
    model.eval()  # mmaction's ResNet.train() returns None
    model.load_state_dict(converted, strict=True)
    x = torch.randn(2, 1, 257, 96)
    with torch.no_grad():
        assert torch.allclose(model(x), net.audnet.features(x), atol=1e-5)


def test_module_prefix_and_bare_state_dict():
    _, ckpt = _fake_vggsound()
    sd = ckpt['model_state_dict']
    ref = convert_vggsound_state_dict(ckpt)
    wrapped = {'state_dict': {'module.' + k: v for k, v in sd.items()}}
    bare = {k[len('audnet.'):]: v for k, v in sd.items()}
    for variant in (wrapped, bare):
        out = convert_vggsound_state_dict(variant)
        assert list(out) == list(ref)
        assert all(torch.equal(out[k], ref[k]) for k in ref)


def test_clear_error_on_wrong_checkpoint():
    _, ckpt = _fake_vggsound()
    sd = dict(ckpt['model_state_dict'])
    del sd['audnet.layer3.1.conv2.weight']
    sd['audnet.extra.weight'] = torch.zeros(1)
    sd['audnet.conv1.weight'] = torch.zeros(64, 3, 7, 7)
    with pytest.raises(VGGSoundConversionError) as info:
        convert_vggsound_state_dict({'model_state_dict': sd})
    message = str(info.value)
    assert 'audnet.extra.weight' in message
    assert 'layer3.1.conv2.conv.weight' in message
    assert 'conv1.conv.weight: (64, 3, 7, 7) != (64, 1, 7, 7)' in message


def test_tool_output_is_mmengine_loadable(tmp_path):
    net, ckpt = _fake_vggsound(seed=1)
    src, dst = str(tmp_path / 'H.pth.tar'), str(tmp_path / 'out' / 'a.pth')
    torch.save(ckpt, src)
    proc = subprocess.run(
        [sys.executable, osp.join('tools', 'convert_vggsound_resnet18.py'),
         src, dst], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = torch.load(dst, weights_only=True)
    assert set(out) == {'state_dict', 'meta'}

    x = torch.randn(1, 1, 257, 64)
    with torch.no_grad():
        expected = net.audnet.features(x)
    # the way configs use it: pretrained=..., torchvision_pretrain=False
    model = _mmaction_resnet18(pretrained=dst, torchvision_pretrain=False)
    model.init_weights()
    model.eval()
    with torch.no_grad():
        assert torch.allclose(model(x), expected, atol=1e-5)
    # and init_cfg=dict(type='Pretrained', checkpoint=...)
    model = _mmaction_resnet18(
        init_cfg=dict(type='Pretrained', checkpoint=dst))
    model.init_weights()
    model.eval()
    with torch.no_grad():
        assert torch.allclose(model(x), expected, atol=1e-5)


class _Payload:
    def __reduce__(self):
        return (print, ('payload ran',))


def test_crafted_file_is_refused_without_weights_only_advice(tmp_path):
    src = str(tmp_path / 'H.pth.tar')
    torch.save(dict(state_dict={}, extra=_Payload()), src)
    proc = subprocess.run(
        [sys.executable, osp.join('tools', 'convert_vggsound_resnet18.py'),
         src, str(tmp_path / 'out.pth')], cwd=REPO, capture_output=True,
        text=True)
    assert proc.returncode != 0
    assert 'payload ran' not in proc.stdout
    assert f'Refused to load checkpoint {src!r}' in proc.stderr
    assert 'the global `print`' in proc.stderr
    # torch's own advice to turn the safety off is not what users see
    assert 'weights_only=False' not in proc.stderr.replace(
        'never turn weights_only off', '')
    assert not (tmp_path / 'out.pth').exists()
