"""Every method builds, trains, saves, resumes and predicts (DomainBed's
``test_init_update_predict``).

The methods are discovered from the shipped configs
(``configs/{family}/{method}_epic.py``), so a new method and its GMP variant
join this test with their configs; every method of the experiment grid
(and its GMP variant) must be among them. Each is built from its shipped
config with the tiny stub encoders of :mod:`tests.models.tiny` (video +
flow) and an in-memory dataset, and trained through a real mmengine Runner
(the config's runner, hooks, optimiser): two iterations in one go, and one
iteration, a checkpoint and a resumed second one, which must end with the
same weights (student, teacher, strategy). Then it predicts (the test loop
with the config's ``AccMetric``: fused and per-modality accuracy), and one
more training step gives a gradient to every trainable parameter (what DDP
requires).
"""

import pytest
import torch
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from torch.utils.data import Dataset

from mbcd_mmaction.apis.runner import build_runner
from mbcd_mmaction.experiments import grid
from tests.models import tiny

MODALITIES = ('rgb', 'flow')
DOMAINS = ['D2', 'D3']


METHOD_CONFIGS = grid.method_configs('epic')


@DATASETS.register_module(force=True)
class InMemoryMultiModalDataset(Dataset):
    """``length`` random clips of the tiny encoders' shapes, packed as
    ``PackActionInputs(collect_keys=modalities)`` packs them, with labels
    and source domains."""

    def __init__(self, length=4, seed=0, modalities=MODALITIES,
                 **kwargs):
        data = tiny.with_domains(tiny.batch(length, modalities, seed=seed),
                                 DOMAINS)
        self.items = [dict(inputs={m: data['inputs'][m][i]
                                   for m in modalities},
                           data_samples=data['data_samples'][i])
                      for i in range(length)]
        self.metainfo = dict(classes=list(range(tiny.NUM_CLASSES)))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, idx):
        item = self.items[idx]
        sample = ActionDataSample().set_gt_label(
            int(item['data_samples'].gt_label))
        sample.set_metainfo(item['data_samples'].metainfo)
        return dict(inputs=dict(item['inputs']), data_samples=sample)


def _set_everywhere(node, key, value):
    if isinstance(node, dict):
        for k in node:
            if k == key:
                node[k] = value
            else:
                _set_everywhere(node[k], key, value)


def _loader(seed, shuffle):
    return dict(batch_size=4, num_workers=0, persistent_workers=False,
                sampler=dict(type='DefaultSampler', shuffle=shuffle),
                collate_fn=dict(type='pseudo_collate'),
                dataset=dict(type='InMemoryMultiModalDataset', length=4,
                             seed=seed))


def _cfg(path, work_dir, max_epochs, resume_from=None):
    cfg = Config.fromfile(path)
    model = cfg.model.to_dict()
    model['encoders'] = {m: tiny.ENCODERS[m]() for m in MODALITIES}
    model['modalities'] = MODALITIES
    _set_everywhere(model, 'num_classes', tiny.NUM_CLASSES)
    _set_everywhere(model, 'source_domains', DOMAINS)
    cfg.model = model
    cfg.modalities = MODALITIES
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    cfg.train_dataloader = _loader(0, True)
    cfg.val_dataloader = _loader(1, False)
    cfg.test_dataloader = _loader(2, False)
    # one iteration per epoch; every epoch checkpointed
    cfg.train_cfg.max_epochs = max_epochs
    cfg.default_hooks.checkpoint.max_keep_ckpts = -1
    cfg.default_hooks.logger.interval = 1
    if resume_from:
        cfg.resume, cfg.load_from = True, str(resume_from)
    return cfg


def _train(path, work_dir, max_epochs, resume_from=None):
    runner = build_runner(_cfg(path, work_dir, max_epochs, resume_from))
    runner.train()
    return runner


def test_every_grid_method_and_its_gmp_variant_has_configs():
    for method in grid.METHODS:
        assert method in METHOD_CONFIGS, method
    for method in grid.PAPER_ROWS:  # every table method also with GMP
        assert grid.gmp_variant(method) in grid.METHODS, method


@pytest.mark.slow
@pytest.mark.parametrize('method', sorted(METHOD_CONFIGS))
def test_init_update_save_resume_predict(method, tmp_path):
    check_init_update_save_resume_predict(METHOD_CONFIGS[method], tmp_path)


def check_init_update_save_resume_predict(path, tmp_path):
    """What the generic test asserts of the method configured in ``path``
    (also run on a method added outside the repository by
    ``tests/experiments/test_method_discovery.py``)."""
    full = _train(path, tmp_path / 'full', 2)
    _train(path, tmp_path / 'first', 1)
    resumed = _train(path, tmp_path / 'resumed', 2,
                     resume_from=tmp_path / 'first' / 'epoch_1.pth')
    expected = full.model.state_dict()
    got = resumed.model.state_dict()
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    # the second iteration trained: the trainable weights moved
    first = torch.load(tmp_path / 'first' / 'epoch_1.pth',
                       map_location='cpu')['state_dict']
    assert not torch.equal(first['fused_head.layers.0.weight'],
                           got['fused_head.layers.0.weight'])

    metrics = resumed.test()
    for key in ('fused', *MODALITIES):
        assert 0.0 <= metrics[f'acc/{key}_top1'] <= 1.0

    # every trainable parameter gets a gradient (DDP without
    # find_unused_parameters), none of the frozen ones does
    model = resumed.model.train()
    data = model.data_preprocessor(
        tiny.with_domains(tiny.batch(4, MODALITIES, seed=3), DOMAINS), True)
    losses = model(**data, mode='loss')
    model.zero_grad(set_to_none=True)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for name, p in model.named_parameters():
        assert (p.grad is not None) == p.requires_grad, name
