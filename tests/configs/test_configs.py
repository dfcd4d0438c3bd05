"""Every config parses, and the ablation configs switch exactly the
components the paper's tables name."""
import copy
import glob

import pytest
from mmaction.registry import MODELS
from mmengine.config import Config

CONFIGS = sorted(glob.glob('configs/*/*.py'))
CONFIGS = [c for c in CONFIGS if '/_base_/' not in c]


def _fromfile(case):
    """``'path'`` or ``'path:mods'`` (the ``modalities`` option, as the
    experiment grid gives it)."""
    path, _, mods = case.partition(':')
    cfg = Config.fromfile(path)
    if mods:
        cfg.modalities = mods
    return cfg


def test_configs_live_in_one_folder_per_method():
    import os
    from mbcd_mmaction.experiments import grid
    assert not glob.glob('configs/*.py')
    folders = {d for d in os.listdir('configs') if d != '_base_'}
    assert folders == {grid.method_family(m) for m in grid.METHODS}


def _components(cfg):
    model = cfg.model
    return dict(
        ema=model.get('teacher') is not None,
        # ConcatFusion (ERM, EMA) has no dropout
        amd=model.fusion.get('mode', 'off'),
        gcc=model.get('gradient_consistency') is not None,
        dl=model.get('distillation') is not None)


@pytest.mark.parametrize('path', CONFIGS)
def test_config_parses_with_consistent_hooks(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmaction'
    assert 'mbcd_mmaction.registration' in cfg.custom_imports.imports
    from mbcd_mmaction.datasets.protocols import dataset_domains
    domains = dataset_domains(cfg)[0]
    if cfg.get('protocol', 'multi_source') == 'single_source':
        assert cfg.source_domain in domains
        assert cfg.target_domain in domains + ('all', )
    else:
        assert cfg.target_domain in domains
    # hooks come from the method's base config; none deletes a shared one
    assert cfg.get('custom_hooks', None) != []
    hooks = [h.type for h in cfg.get('custom_hooks', [])]
    # a teacher must be moved by the hook, and the hook needs a teacher
    assert ('TeacherUpdateHook' in hooks) == (cfg.model.get('teacher')
                                           is not None)
    assert cfg.default_hooks.checkpoint.save_best == 'acc/fused_top1'


@pytest.mark.parametrize('path,expected', [
    ('configs/erm/erm_epic.py:af', dict(ema=False, amd='off', gcc=False,
                                        dl=False)),
    ('configs/mbcd/table4_ema_epic_af.py',
     dict(ema=True, amd='off', gcc=False, dl=False)),
    ('configs/mbcd/table4_ema_amd_epic_af.py',
     dict(ema=True, amd='adaptive', gcc=False, dl=False)),
    ('configs/mbcd/table4_ema_gcc_epic_af.py',
     dict(ema=True, amd='off', gcc=True, dl=False)),
    ('configs/mbcd/table4_ema_dl_epic_af.py',
     dict(ema=True, amd='off', gcc=False, dl=True)),
    ('configs/mbcd/mbcd_epic.py:af', dict(ema=True, amd='adaptive',
                                          gcc=True, dl=True)),
    ('configs/mbcd/table5_nodrop_epic_af.py',
     dict(ema=True, amd='off', gcc=True, dl=True)),
    ('configs/mbcd/table5_fixdrop_epic_af.py',
     dict(ema=True, amd='fixed', gcc=True, dl=True)),
])
def test_ablation_rows(path, expected):
    from mbcd_mmaction.datasets.protocols import apply_protocol
    cfg = apply_protocol(_fromfile(path))
    assert _components(cfg) == expected
    method = 'ERM' if 'erm' in path else 'EMA' if not (
        expected['amd'] != 'off' or expected['gcc'] or expected['dl']) \
        else 'MBCD'
    assert cfg.model.type == method
    assert tuple(cfg.modalities) == ('flow', 'audio')


def test_paper_hyperparameters():
    cfg = Config.fromfile('configs/mbcd/mbcd_epic.py')
    assert cfg.model.teacher.momentum == pytest.approx(1 - 0.999)
    assert cfg.model.gradient_consistency.alpha == pytest.approx(1e-4)
    assert cfg.model.distillation.loss_weight == 1.0
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-4,
                                               weight_decay=1e-4)
    assert cfg.train_cfg.max_epochs == 20
    assert cfg.train_dataloader.batch_size == 16


def test_paper_model_builds_from_config():
    cfg = Config.fromfile('configs/mbcd/mbcd_epic.py')
    model_cfg = copy.deepcopy(cfg.model.to_dict())
    for enc in model_cfg['encoders'].values():
        enc['pretrained'] = None  # no download in tests
    model = MODELS.build(model_cfg)
    assert model.modalities == ('rgb', 'flow', 'audio')
    assert model.fused_head.layers[0].in_features == 2304 + 2048 + 512


@pytest.mark.parametrize('name,expected', [
    ('va', ('rgb', 'audio')), ('vf', ('rgb', 'flow')),
    ('af', ('flow', 'audio')), ('vaf', ('rgb', 'flow', 'audio'))])
def test_modality_combination_reaches_model_data_and_packing(name,
                                                             expected):
    from mbcd_mmaction.datasets.protocols import apply_protocol
    for method in ('mbcd', 'erm'):
        cfg = apply_protocol(
            _fromfile(f'configs/{method}/{method}_epic.py:{name}'))
        assert tuple(cfg.model.modalities) == expected
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            dataset = cfg[loader].dataset
            assert tuple(dataset.modalities) == expected
            pack = [t for t in dataset.pipeline
                    if t.type == 'PackActionInputs']
            assert tuple(pack[0].collect_keys) == expected


_GMP_FULL = dict(use_k=True, use_p=True, shared_coefficient=None,
                 projection_mode='adaptive')


@pytest.mark.parametrize('name,switches', [
    ('gmp_modulation_only', dict(projection_mode='none')),
    ('gmp_projection_only', dict(use_k=False, use_p=False)),
    ('gmp_shared_coef', dict(shared_coefficient='product')),
    ('gmp_wo_k', dict(use_k=False)),
    ('gmp_wo_p', dict(use_p=False)),
    ('gmp_proj_cls', dict(projection_mode='classification')),
    ('gmp_proj_dom', dict(projection_mode='domain')),
    ('gmp_pcgrad', dict(projection_mode='pcgrad')),
    ('gmp_reversed', dict(projection_mode='reversed')),
])
def test_gmp_ablation_rows(name, switches):
    """Each GMP Table 4 row differs from full GMP by exactly its switches
    and is listed in configs/gmp/README.md."""
    path = f'configs/gmp/{name}_epic_va.py'
    cfg = Config.fromfile(path)
    full = Config.fromfile('configs/gmp/gmp_epic.py')
    gmp, ref = cfg.model.gradient_modulation, full.model.gradient_modulation
    assert {k: gmp[k] for k in _GMP_FULL} == {**_GMP_FULL, **switches}
    assert {k: v for k, v in gmp.items() if k not in switches} == \
        {k: v for k, v in ref.items() if k not in switches}
    assert tuple(cfg.modalities) == ('rgb', 'audio')
    assert path in open('configs/gmp/README.md').read()


def test_gmp_paper_hyperparameters_and_composition():
    from mbcd_mmaction.datasets.protocols import apply_protocol
    cfg = apply_protocol(Config.fromfile('configs/gmp/gmp_epic.py'))
    gmp = cfg.model.gradient_modulation
    assert cfg.model.uni_loss_weight == 3.0
    assert (gmp.grl_factor, gmp.domain_loss_weight, gmp.alpha_k,
            gmp.alpha_p, gmp.proj_channels, gmp.disc_hidden) == \
        (0.3, 0.5, 0.5, 0.5, 512, 256)
    assert gmp.source_domains == ['D2', 'D3']  # filled by apply_protocol
    assert cfg.model.get('teacher') is None
    # MBCD + GMP: every MBCD part and the same GMP strategy
    both = apply_protocol(Config.fromfile('configs/mbcd/mbcd_gmp_epic.py'))
    assert _components(both) == dict(ema=True, amd='adaptive', gcc=True,
                                     dl=True)
    assert both.model.gradient_modulation == gmp
    assert both.model.uni_loss_weight == 3.0
    from mbcd_mmaction.experiments import grid
    for name in ('va', 'vf', 'af'):
        for method in ('gmp', 'mbcd_gmp'):
            sub = apply_protocol(_fromfile(
                f'configs/{grid.method_family(method)}/{method}_epic.py:'
                f'{name}'))
            assert sub.model.gradient_modulation.type == \
                'GradientModulationProjection'
            assert len(sub.model.modalities) == 2
