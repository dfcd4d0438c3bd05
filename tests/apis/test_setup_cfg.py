import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mbcd_mmaction.apis import (build_test_parser, build_train_parser,
                                configure_device, setup_cfg, setup_test_cfg)


def _cfg(config, *flags):
    return setup_cfg(build_train_parser().parse_args([config, *flags]))


def test_work_dir_defaults_to_config_name(tiny_config):
    cfg = _cfg(tiny_config)
    assert cfg.work_dir == osp.join('./work_dirs', 'tiny_cfg')
    assert _cfg(tiny_config, '--work-dir', '/x/y').work_dir == '/x/y'


def test_work_dir_in_config_wins_over_default(tiny_config):
    cfg = _cfg(tiny_config, '--cfg-options', 'work_dir=/from/cfg')
    assert cfg.work_dir == '/from/cfg'


def test_amp_switches_to_amp_optim_wrapper(tiny_config, monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = _cfg(tiny_config, '--amp')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.optim_wrapper.optimizer.type == 'SGD'
    assert 'type' not in _cfg(tiny_config).optim_wrapper


def test_amp_without_cuda_is_a_clear_error(tiny_config, monkeypatch):
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(ValueError, match='--amp needs a CUDA device'):
        _cfg(tiny_config, '--amp')


def test_cfg_options_and_seed(tiny_config):
    cfg = _cfg(tiny_config, '--seed', '7', '--deterministic', '--cfg-options',
               'train_dataloader.batch_size=2', 'optim_wrapper.optimizer.lr=0.1')
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.optim_wrapper.optimizer.lr == 0.1
    # the config has randomness=dict(seed=0): the flag still wins
    assert cfg.randomness.seed == 7
    assert cfg.randomness.deterministic is True


def test_resume_flags(tiny_config):
    cfg = _cfg(tiny_config, '--resume')
    assert cfg.resume is True and cfg.load_from is None
    cfg = _cfg(tiny_config, '--resume', '/a/epoch_2.pth')
    assert cfg.resume is True and cfg.load_from == '/a/epoch_2.pth'


def test_auto_scale_lr_needs_base_batch_size(tiny_config):
    with pytest.raises(ValueError, match='auto_scale_lr'):
        _cfg(tiny_config, '--auto-scale-lr')
    cfg = _cfg(tiny_config, '--auto-scale-lr', '--cfg-options',
               'auto_scale_lr.base_batch_size=16')
    assert cfg.auto_scale_lr.enable is True


def test_custom_imports_added_when_absent(tmp_path):
    path = tmp_path / 'bare.py'
    path.write_text("model = dict(type='TinyNet')\n")
    cfg = _cfg(str(path))
    assert cfg.custom_imports.imports == ['mbcd_mmaction.registration']
    assert cfg.custom_imports.allow_failed_imports is False


@pytest.mark.parametrize('options,called', [
    ((), False), (('target_domain=D2', ), True),
    (('source_domain=D1', 'protocol=single_source'), True)])
def test_apply_protocol_runs_for_dg_configs_only(tiny_config, monkeypatch,
                                                options, called):
    import mbcd_mmaction.datasets.protocols as protocols_module
    calls = []
    monkeypatch.setattr(protocols_module, 'apply_protocol', calls.append)
    flags = ('--cfg-options', *options) if options else ()
    cfg = _cfg(tiny_config, *flags)
    assert calls == ([cfg] if called else [])


def test_cpu_distributed_config(tiny_config, monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = _cfg(tiny_config, '--launcher', 'pytorch', '--cfg-options',
               'find_unused_parameters=True')
    assert cfg.launcher == 'pytorch'
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel', device_ids=None,
        find_unused_parameters=True)
    assert cfg.train_dataloader.pin_memory is False
    # not distributed: no wrapper override
    assert 'model_wrapper_cfg' not in _cfg(tiny_config)


def test_gpu_config(tiny_config, monkeypatch):
    cfg = Config.fromfile(tiny_config)
    cfg.launcher = 'pytorch'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    configure_device(cfg)
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert cfg.train_dataloader.pin_memory is True
    assert cfg.test_dataloader.pin_memory is True
    assert 'model_wrapper_cfg' not in cfg


def test_test_cfg(tiny_config):
    cfg = setup_test_cfg(build_test_parser().parse_args(
        [tiny_config, '/ck/best.pth', '--dump', 'out.pkl']))
    assert cfg.load_from == '/ck/best.pth'
    assert cfg.work_dir == osp.join('./work_dirs', 'tiny_cfg')
    assert cfg.test_evaluator[-1] == dict(type='DumpResults',
                                          out_file_path='out.pkl')
    with pytest.raises(ValueError, match='pkl'):
        setup_test_cfg(build_test_parser().parse_args(
            [tiny_config, 'c.pth', '--dump', 'out.json']))
