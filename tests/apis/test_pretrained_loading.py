"""Pretrained encoder weights reach the model through the path users take:
the runner built from the shipped paper configs, ``runner.train()``.

Stand-in checkpoint files have the real files' key names and shapes (zoo
files: whole recognizers with ``backbone.*`` and ``cls_head.*``; the
converted VGGSound file: bare ResNet-18 keys); the weights are random, so
a trunk left at its own initialisation cannot match them by chance.
"""
import glob
import itertools
import os.path as osp

import pytest
import torch
from mmaction.registry import HOOKS
from mmengine.config import Config
from mmengine.hooks import Hook

from mbcd_mmaction.apis import build_runner, setup_cfg
from mbcd_mmaction.datasets.protocols import apply_protocol
from mbcd_mmaction.experiments.grid import MODALITIES
from mbcd_mmaction.datasets.synthetic import (generate_epic_kitchens,
                                              generate_hac)
from mbcd_mmaction.models.encoders.pretrained import (PretrainedWeightsError,
                                                      load_pretrained_strict)

# The experiment configs of the papers' tables (not demos or ablations).
PAPER_CONFIGS = sorted(glob.glob('configs/*/*_epic.py') +
                       glob.glob('configs/*/*_hac.py'))
ZOO_MODALITIES = ('rgb', 'flow')  # MMAction2 zoo files: backbone.* keys


class StopBeforeFirstIteration(Exception):
    pass


@HOOKS.register_module(force=True)
class StopBeforeFirstIterationHook(Hook):
    """Ends ``runner.train()`` where the first iteration would start, i.e.
    after the runner initialised the weights and resumed."""

    def before_train(self, runner):
        raise StopBeforeFirstIteration


@pytest.mark.slow
def test_every_paper_config_loads_a_pretrained_file_per_encoder():
    assert len(PAPER_CONFIGS) >= 26
    for path, mods in itertools.product(PAPER_CONFIGS, MODALITIES):
        cfg = Config.fromfile(path)
        cfg.modalities = mods
        cfg = apply_protocol(cfg)
        for m in cfg.model.modalities:
            enc = cfg.model.encoders[m]
            assert enc.get('pretrained'), (path, m)
            assert enc.get('pretrained_prefix') == (
                'backbone.' if m in ZOO_MODALITIES else None), (path, m)


def _random_like(state):
    return {k: (torch.randn_like(v) if v.is_floating_point()
                else torch.randint_like(v, 100)) for k, v in state.items()}


def _write_stand_ins(model, paths):
    """Files shaped like the real ones for each encoder of ``model``;
    returns the backbone state each file holds."""
    expected = {}
    for m, enc in model.encoders.items():
        state = _random_like(enc.backbone.state_dict())
        if m in ZOO_MODALITIES:
            saved = {f'backbone.{k}': v for k, v in state.items()}
            saved['cls_head.fc_cls.weight'] = torch.randn(400, enc.feat_dim)
            saved['cls_head.fc_cls.bias'] = torch.randn(400)
        else:
            saved = state
        torch.save({'state_dict': saved, 'meta': {}}, paths[m])
        expected[m] = state
    return expected


def _paper_cfg(config, mods, tmp_path, data_root, ckpt_paths):
    options = {f'model.encoders.{m}.pretrained': p
               for m, p in ckpt_paths.items()}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options[f'{loader}.dataset.data_root'] = data_root
        options[f'{loader}.num_workers'] = 0
        options[f'{loader}.persistent_workers'] = False
    cfg = setup_cfg([config, '--work-dir', str(tmp_path / 'work'),
                     '--cfg-options', f'modalities={mods}'])
    cfg.merge_from_dict(options)
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='StopBeforeFirstIterationHook')]
    return cfg


@pytest.fixture(scope='module')
def data_roots(tmp_path_factory):
    root = tmp_path_factory.mktemp('paper_data')
    small = {'train': 2, 'test': 2}
    generate_epic_kitchens(str(root / 'epic'), clips_per_split=small)
    generate_hac(str(root / 'hac'), clips_per_split=small)
    return dict(epic=str(root / 'epic'), hac=str(root / 'hac'))


@pytest.mark.slow
@pytest.mark.parametrize('config, mods', [
    ('configs/mbcd/mbcd_epic.py', 'vaf'), ('configs/erm/erm_hac.py', 'va'),
    ('configs/mbcd/mbcd_gmp_hac.py', 'af')])
def test_runner_loads_every_encoder_and_teacher_starts_from_it(
        config, mods, tmp_path, data_roots):
    paths = {m: str(tmp_path / f'{m}.pth') for m in MODALITIES[mods]}
    data_root = data_roots['hac' if '_hac' in config else 'epic']
    runner = build_runner(_paper_cfg(config, mods, tmp_path, data_root,
                                     paths))
    expected = _write_stand_ins(runner.model, paths)
    with pytest.raises(StopBeforeFirstIteration):
        runner.train()

    model = runner.model
    for m, state in expected.items():
        loaded = model.encoders[m].backbone.state_dict()
        assert set(loaded) == set(state)
        for k, v in state.items():  # trunk and top stage alike
            assert torch.equal(loaded[k], v), (m, k)
    if model.teacher is not None:
        student = model.trainable_parts().state_dict()
        teacher = model.teacher.module.state_dict()
        assert set(student) == set(teacher)
        for k, v in student.items():
            assert torch.equal(teacher[k], v), k


@pytest.mark.slow
def test_missing_checkpoint_stops_before_training(tmp_path, data_roots):
    config = 'configs/mbcd/mbcd_epic.py'
    paths = {'rgb': str(tmp_path / 'rgb.pth'),
             'audio': str(tmp_path / 'no_such_vggsound.pth')}
    runner = build_runner(_paper_cfg(config, 'va', tmp_path,
                                     data_roots['epic'], paths))
    _write_stand_ins(runner.model, {**paths, 'audio': str(tmp_path / 'x')})
    with pytest.raises(PretrainedWeightsError) as err:
        runner.train()  # never reaches StopBeforeFirstIteration
    assert 'model.encoders.audio.pretrained' in str(err.value)
    assert paths['audio'] in str(err.value)
    assert not glob.glob(osp.join(str(tmp_path / 'work'), '**', '*.pth'),
                         recursive=True)


# -- the strict loader itself (cheap: tiny backbones) ------------------------
def _tiny_resnet18():
    from mmaction.registry import MODELS
    return MODELS.build(dict(type='ResNet', depth=18, in_channels=1,
                             pretrained=None, torchvision_pretrain=False))


def test_raw_vggsound_file_lists_missing_and_unexpected_keys(tmp_path):
    """The raw VGGSound H.pth.tar (keys audnet.*) instead of the converted
    file: an error listing the keys, not a silent partial load."""
    net = _tiny_resnet18()
    raw = {f'module.audnet.{k}': v for k, v in net.state_dict().items()}
    path = str(tmp_path / 'H.pth.tar')
    torch.save({'model_state_dict': raw}, path)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(PretrainedWeightsError, match='no state dict'):
        load_pretrained_strict(net, path)
    torch.save({'state_dict': raw}, path)
    with pytest.raises(PretrainedWeightsError) as err:
        load_pretrained_strict(net, path)
    msg = str(err.value)
    assert path in msg and 'missing keys' in msg and 'unexpected keys' in msg
    assert 'conv1.conv.weight' in msg and 'module.audnet.conv1' in msg
    for k, v in net.state_dict().items():  # nothing was copied
        assert torch.equal(v, before[k])


def test_zoo_file_of_another_architecture_lists_mis_shaped_keys(tmp_path):
    from mmaction.registry import MODELS
    net = _tiny_resnet18()
    other = MODELS.build(dict(type='ResNet', depth=18, in_channels=3,
                              pretrained=None, torchvision_pretrain=False))
    path = str(tmp_path / 'zoo.pth')
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in
                               other.state_dict().items()}}, path)
    with pytest.raises(PretrainedWeightsError,
                       match=r'mis-shaped keys 1: conv1.conv.weight'):
        load_pretrained_strict(net, path, prefix='backbone.')
    load_pretrained_strict(other, path, prefix='backbone.')  # its own: fine

