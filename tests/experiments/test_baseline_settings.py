"""The authors' per-split settings table (BASELINES.md sections 2-4)."""
import pytest

from mbcd_mmaction.experiments.baseline_settings import (PER_SPLIT,
                                                         per_split_overrides)


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
