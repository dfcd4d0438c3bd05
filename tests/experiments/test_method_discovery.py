"""A method is its class and its folder of configs, nothing else.

A throwaway method is written outside the repository: a module with one
registered class (ERM plus a penalty on the fused logits) and a folder
``toy/`` with ``toy_epic.py`` and ``toy_hac.py``, beside links to the
shipped method folders. With nothing in the repository touched, the
experiment grid lists its cells, the generic every-method test's discovery
finds it and its checks pass on it (build, train, save, resume, predict,
a gradient for every trainable parameter), and the benchmark measures it.
"""
import json
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

from mbcd_mmaction.experiments import grid

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

TOY_MODULE = '''
import torch
from mmaction.registry import MODELS

from mbcd_mmaction.models.methods.erm import ERM


@MODELS.register_module()
class ToyMethod(ERM):
    """ERM plus ``weight * mean(fused_logits ** 2)``."""

    def __init__(self, weight, **kwargs):
        super().__init__(**kwargs)
        self.weight = weight

    def method_losses(self, ctx):
        losses = super().method_losses(ctx)
        losses['loss_toy'] = self.weight * ctx.fused_logits.pow(2).mean()
        return losses
'''

TOY_CONFIG = '''
_base_ = ['../_base_/models/erm.py', '../_base_/experiments/{dataset}.py']
custom_imports = dict(imports=['mbcd_mmaction.registration', 'toy_method'],
                      allow_failed_imports=False)
modalities = ('rgb', 'flow', 'audio')
model = dict(type='ToyMethod', weight=0.01{extra})
'''


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    """``(config root, module dir)``: the shipped method folders linked,
    plus ``toy/`` and ``toy_method.py``."""
    root = tmp_path_factory.mktemp('toy_repo')
    configs = root / 'configs'
    configs.mkdir()
    for name in os.listdir(osp.join(ROOT, 'configs')):
        os.symlink(osp.join(ROOT, 'configs', name), configs / name)
    (configs / 'toy').mkdir()
    (configs / 'toy' / 'toy_epic.py').write_text(
        TOY_CONFIG.format(dataset='epic', extra=''))
    (configs / 'toy' / 'toy_hac.py').write_text(TOY_CONFIG.format(
        dataset='hac', extra=', num_classes={{_base_.num_classes}}'))
    (root / 'toy_method.py').write_text(textwrap.dedent(TOY_MODULE))
    return str(configs), str(root)


def test_grid_lists_the_new_method(toy_root):
    configs, _ = toy_root
    methods = grid.discover_methods(configs)
    assert 'toy' in methods and 'toy' not in grid.METHODS
    assert set(methods) - {'toy'} == set(grid.METHODS)
    cells = grid.table_cells(
        [1], methods=['toy'],
        pattern=osp.join(configs, '{family}', '{method}_{dataset}.py'))
    # 2 datasets x 4 modality combinations x 3 targets
    assert len(cells) == 24
    assert all(osp.isfile(c.config) for c in cells)
    assert grid.display_name('toy', configs) == 'toy'


@pytest.mark.slow
def test_generic_method_test_finds_and_passes_it(toy_root, tmp_path,
                                                 monkeypatch):
    configs, module_dir = toy_root
    monkeypatch.syspath_prepend(module_dir)
    from tests.models import test_every_method
    found = grid.method_configs('epic', configs)
    assert set(found) - {'toy'} == set(test_every_method.METHOD_CONFIGS)
    test_every_method.check_init_update_save_resume_predict(found['toy'],
                                                            tmp_path)


@pytest.mark.slow
def test_benchmark_measures_it(toy_root):
    configs, module_dir = toy_root
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [module_dir, ROOT, os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run(
        [sys.executable, 'tools/benchmark.py', '--smoke', '--config-root',
         configs, '--methods', 'erm', 'toy', '--skip-data', '--json'], cwd=ROOT,
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out['errors'] == []
    assert out['methods']['toy']['sec_per_iter'] > 0
    assert out['methods']['toy']['top_stage_passes_bwd'] >= 1
