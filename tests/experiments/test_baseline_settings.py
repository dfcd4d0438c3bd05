"""The authors' per-split settings table (docs/methods.md) and
the ``per_split`` switch through tools/train.py."""
import importlib.util
import os.path as osp

import pytest

from mbcd_mmaction.experiments.baseline_settings import (PER_SPLIT,
                                                         apply_per_split,
                                                         per_split_overrides)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_every_method_dataset_modalities_has_all_targets():
    for method in ('rna', 'simmmdg', 'moosa', 'cmrf'):
        for dataset, targets in (('epic', ('D1', 'D2', 'D3')),
                                 ('hac', ('human', 'animal', 'cartoon'))):
            for mods in ('va', 'vf', 'af', 'vaf'):
                assert sorted(PER_SPLIT[method, dataset, mods]) == \
                    sorted(targets)


@pytest.mark.parametrize('args, expected', [
    (('simmmdg', 'epic', 'va', 'D3'), {'train_cfg.max_epochs': 25}),
    (('simmmdg', 'epic', 'vaf', 'D1'),
     {'train_cfg.max_epochs': 10, 'model.translation.hidden_channels': 1024}),
    (('simmmdg', 'epic', 'vaf', 'D3'),
     {'train_cfg.max_epochs': 15, 'model.translation.loss_weight': 1.0}),
    (('simmmdg', 'hac', 'af', 'cartoon'), {'train_cfg.max_epochs': 20}),
    (('moosa', 'epic', 'va', 'D2'),
     {'train_cfg.max_epochs': 10, 'model.translation.mask_ratio': 0.7,
      'model.entropy_minimisation.loss_weight': 1.0}),
    (('moosa', 'epic', 'vaf', 'D3'),
     {'train_cfg.max_epochs': 20, 'model.translation.mask_ratio': 0.3,
      'model.entropy_minimisation.loss_weight': 0.1}),
    (('moosa', 'hac', 'vaf', 'animal'),
     {'train_cfg.max_epochs': 10, 'model.translation.mask_ratio': 0.7,
      'model.entropy_minimisation.loss_weight': 0.001,
      'model.jigsaw.num_permutations': 64}),
    (('moosa', 'hac', 'vaf', 'cartoon'),
     {'train_cfg.max_epochs': 20, 'model.translation.mask_ratio': 0.7,
      'model.entropy_minimisation.loss_weight': 0.001,
      'model.translation.loss_weight': 0.5}),
    (('moosa', 'hac', 'af', 'cartoon'),
     {'train_cfg.max_epochs': 10, 'model.translation.mask_ratio': 0.7,
      'model.entropy_minimisation.loss_weight': 0.001}),
    (('cmrf', 'hac', 'va', 'human'), {'train_cfg.max_epochs': 15}),
    (('rna', 'epic', 'vf', 'D2'), {}),
])
def test_pinned_cells(args, expected):
    assert per_split_overrides(*args) == expected


def test_overrides_are_copies():
    per_split_overrides('cmrf', 'epic', 'va', 'D1')['x'] = 1
    assert 'x' not in per_split_overrides('cmrf', 'epic', 'va', 'D1')


def test_unknown_keys_are_named():
    with pytest.raises(KeyError, match="method 'erm'"):
        per_split_overrides('erm', 'epic', 'va', 'D1')
    with pytest.raises(KeyError, match="target_domain='human'"):
        per_split_overrides('moosa', 'epic', 'va', 'human')


def _train_tool():
    spec = importlib.util.spec_from_file_location(
        'train_tool_under_test', osp.join(REPO, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('per_split', [True, False])
def test_train_tool_applies_the_switch(per_split, monkeypatch, tmp_path):
    tool = _train_tool()
    seen = []
    import mbcd_mmaction.apis
    monkeypatch.setattr(mbcd_mmaction.apis, 'train',
                        lambda cfg, request=None: seen.append(cfg))
    tool.main([osp.join(REPO, 'configs', 'moosa', 'moosa_hac.py'), '--work-dir',
               str(tmp_path), '--cfg-options', 'target_domain=cartoon',
               f'per_split={per_split}'])
    cfg, = seen
    assert cfg.test_dataloader.dataset.domains == ['cartoon']
    expected = (20, 0.7, 0.5) if per_split else (20, 0.3, 0.1)
    assert (cfg.train_cfg.max_epochs, cfg.model.translation.mask_ratio,
            cfg.model.translation.loss_weight) == expected


@pytest.mark.parametrize('method', ['rna', 'simmmdg', 'moosa', 'cmrf'])
@pytest.mark.parametrize('dataset, domain', [('epic', 'D1'), ('epic', 'D3'),
                                             ('hac', 'animal'),
                                             ('hac', 'cartoon')])
def test_shipped_configs_take_every_setting(method, dataset, domain):
    from mmengine.config import Config
    # the keys differ per method and split, not per modality set, and
    # vaf has the most (e.g. SimMMDG EPIC ->D1's translator width)
    cfg = Config.fromfile(osp.join(REPO, 'configs', method,
                                   f'{method}_{dataset}.py'))
    assert cfg.baseline == method
    cfg.merge_from_dict(dict(per_split=True, target_domain=domain))
    expected = per_split_overrides(method, dataset, 'vaf', domain)
    assert apply_per_split(cfg) == expected
    for key, value in expected.items():
        node = cfg
        for part in key.split('.'):
            node = node[part]
        assert node == value, key


def test_switch_refuses_other_protocols_and_unknown_methods():
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'cmrf', 'cmrf_epic.py'))
    assert apply_per_split(cfg) == {}  # off by default
    cfg.merge_from_dict(dict(per_split=True, protocol='single_source'))
    with pytest.raises(ValueError, match='multi-source'):
        apply_per_split(cfg)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'erm', 'erm_epic.py'))
    cfg.per_split = True
    with pytest.raises(KeyError, match='baseline'):
        apply_per_split(cfg)
