"""Traps of issue 8 item 11 / item 10: a config without `randomness`, and
top-level `data_root`, `num_classes`, `modalities` given with
--cfg-options."""
import os.path as osp

import pytest

from mbcd_mmaction.apis import build_train_parser, setup_cfg, train

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs', 'mbcd', 'mbcd_epic_demo.py')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _cfg(*args):
    return setup_cfg(build_train_parser().parse_args([DEMO, *args]))


def test_config_without_randomness_trains(tiny_config, tmp_path):
    """Every plain MMAction2 recipe lacks `randomness`; mmengine's
    set_randomness then needs a seed (None: a random one)."""
    with open(tiny_config) as f:
        text = f.read()
    assert 'randomness = dict(seed=0)\n' in text
    with open(tiny_config, 'w') as f:
        f.write(text.replace('randomness = dict(seed=0)\n', ''))
    args = build_train_parser().parse_args(
        [tiny_config, '--work-dir', str(tmp_path / 'run')])
    cfg = setup_cfg(args)
    assert cfg.randomness == dict(seed=None)
    results = train(cfg)
    assert results['test_metrics']


def test_top_level_data_root_and_num_classes_propagate():
    cfg = _cfg('--cfg-options', 'data_root=/elsewhere/epic', 'num_classes=5')
    for key in LOADERS:
        assert cfg[key].dataset.data_root == '/elsewhere/epic'
    assert cfg.model.num_classes == 5
    with pytest.raises(ValueError, match='num_classes=0'):
        _cfg('--cfg-options', 'num_classes=0')


def test_a_loader_or_model_given_its_own_value_keeps_it():
    """Per-loader roots and model.num_classes given explicitly win over the
    top-level variables (which propagate only where the file's value is)."""
    cfg = _cfg('--cfg-options', 'data_root=/a',
               'test_dataloader.dataset.data_root=/b')
    assert cfg.train_dataloader.dataset.data_root == '/a'
    assert cfg.val_dataloader.dataset.data_root == '/a'
    assert cfg.test_dataloader.dataset.data_root == '/b'
    cfg = _cfg('--cfg-options', *[f'{k}.dataset.data_root=/c'
                                  for k in LOADERS], 'model.num_classes=3')
    for key in LOADERS:
        assert cfg[key].dataset.data_root == '/c'
    assert cfg.model.num_classes == 3


def test_one_modality_name_is_one_modality():
    cfg = _cfg('--cfg-options', 'modalities=audio')
    assert cfg.modalities == ('audio', )
    assert cfg.model.modalities == ('audio', )
    for key in LOADERS:
        assert cfg[key].dataset.modalities == ('audio', )
        assert cfg[key].dataset.pipeline[-1].collect_keys == ('audio', )
    assert _cfg('--cfg-options', 'modalities=rgb,audio').modalities == \
        ('rgb', 'audio')
    with pytest.raises(ValueError, match=r"unknown \['sound'\]"):
        _cfg('--cfg-options', 'modalities=sound')


def test_config_file_parsed_once_per_resolution(monkeypatch):
    """Resolving the top-level variables reads the config file's own values
    (data_root and num_classes) from one parse of the file, not one each."""
    from mmengine.config import Config

    from mbcd_mmaction.datasets import protocols
    from mbcd_mmaction.datasets.protocols import apply_top_level
    monkeypatch.setattr(protocols, '_WRITTEN_CACHE', {})
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict(dict(data_root='/elsewhere/epic', num_classes=5))
    parsed = []
    real_fromfile = Config.fromfile

    def counting_fromfile(filename, *args, **kwargs):
        parsed.append(filename)
        return real_fromfile(filename, *args, **kwargs)

    monkeypatch.setattr(Config, 'fromfile', staticmethod(counting_fromfile))
    apply_top_level(cfg)
    assert parsed == [DEMO]
    # both written values came from that parse: both variables propagated
    assert cfg.model.num_classes == 5
    for key in LOADERS:
        assert cfg[key].dataset.data_root == '/elsewhere/epic'
