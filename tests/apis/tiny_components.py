"""Tiny real mmengine components for the apis tests (registered in
mmengine's root registries, which mmaction's registries inherit from).

Importable by name (``custom_imports``) when ``tests/apis`` is on
``sys.path``, so that spawned ``torchrun`` workers find them too.
"""
import json
import os
import os.path as osp

import torch
import torch.nn.functional as F
from mmengine.dist import get_rank
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS
from torch.utils.data import Dataset

NUM_CLASSES = 3
DIM = 4


@DATASETS.register_module(force=True)
class TinyDataset(Dataset):
    """``length`` points in DIM dims whose label is a fixed linear rule."""

    def __init__(self, length=16, seed=0, metainfo=None, **kwargs):
        g = torch.Generator().manual_seed(seed)
        self.x = torch.randn(length, DIM, generator=g)
        w = torch.arange(DIM * NUM_CLASSES, dtype=torch.float32).reshape(
            DIM, NUM_CLASSES).sin()
        self.y = (self.x @ w).argmax(1)
        self.metainfo = dict(classes=list(range(NUM_CLASSES)))

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return dict(inputs=self.x[idx], label=self.y[idx])


@MODELS.register_module(force=True)
class TinyNet(BaseModel):

    def __init__(self, data_preprocessor=None, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.fc = torch.nn.Linear(DIM, NUM_CLASSES)

    def forward(self, inputs, label=None, mode='tensor'):
        logits = self.fc(inputs)
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, label))
        if mode == 'predict':
            return [dict(pred=p, label=t, score=s)
                    for p, t, s in zip(logits.argmax(1), label, logits)]
        return logits


@METRICS.register_module(force=True)
class ScheduledMetric(BaseMetric):
    """Returns ``schedule[i]`` on its i-th evaluation (a controllable
    'validation accuracy'), whatever the predictions are."""

    def __init__(self, schedule=(0.5, ), **kwargs):
        super().__init__(**kwargs)
        self.schedule = list(schedule)
        self.calls = 0

    def process(self, data_batch, data_samples):
        self.results.extend(0 for _ in data_samples)

    def compute_metrics(self, results):
        value = self.schedule[min(self.calls, len(self.schedule) - 1)]
        self.calls += 1
        return dict(acc=value)


@METRICS.register_module(force=True)
class TinyAccuracy(BaseMetric):
    """Real accuracy, plus the sum of the model's weights at test time
    (to tell which checkpoint was tested)."""

    def process(self, data_batch, data_samples):
        for s in data_samples:
            self.results.append(float(s['pred'] == s['label']))

    def compute_metrics(self, results):
        return dict(top1=sum(results) / max(len(results), 1))


@HOOKS.register_module(force=True)
class RecordWeightsHook(Hook):
    """Writes the model's weights per rank into ``work_dir`` after training
    and before testing (``weights_<stage>_rank<r>.json``)."""

    def _dump(self, runner, stage):
        model = runner.model
        model = getattr(model, 'module', model)
        values = [float(v) for v in torch.cat(
            [p.detach().flatten() for p in model.parameters()])]
        path = osp.join(runner.work_dir,
                        f'weights_{stage}_rank{get_rank()}.json')
        with open(path, 'w') as f:
            json.dump(dict(values=values, world_size=int(os.environ.get(
                'WORLD_SIZE', 1))), f)

    def after_train(self, runner):
        self._dump(runner, 'train')

    def before_test(self, runner):
        self._dump(runner, 'test')
