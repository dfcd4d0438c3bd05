"""Our configs through the stock entry points: the protocol given as an
option is applied when the runner is built (RUNNERS.build, as MMAction2's
tools/train.py and `mim train` do), every validation is logged to
eval_log.jsonl, and a config inheriting a real MMAction2 recipe trains
through our tools and MMAction2's own tools/train.py."""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

import mmaction
import pytest
from mmengine.config import Config, DictAction

from mbcd_mmaction.apis import (build_train_parser, setup_cfg,
                                test_best_checkpoint, train)
from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens
from mbcd_mmaction.experiments.selection import (SourceValidation,
                                                 read_eval_log)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs', 'mbcd', 'mbcd_epic_demo.py')
RECIPE = osp.join(REPO, 'configs', 'erm', 'slowfast_r50_epic_va.py')
STOCK_TRAIN = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools',
                       'train.py')
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@pytest.fixture(scope='module')
def epic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('epic') / 'epic_tiny'
    generate_epic_kitchens(str(root),
                           clips_per_split={'train': 16, 'test': 8})
    return str(root)


def _options(*pairs):
    """--cfg-options values as mmengine's DictAction parses them."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *pairs]).cfg_options


def _tiny(root, work_dir):
    return [f'data_root={root}', f'work_dir={work_dir}', 'log_level=WARNING',
            *[f'{k}.{o}' for k in LOADERS
              for o in ('num_workers=0', 'persistent_workers=False')]]


@pytest.mark.slow
def test_stock_runner_build_applies_the_protocol_option(epic_root, tmp_path):
    # exactly what MMAction2's tools/train.py does with a config
    from mmaction.registry import RUNNERS
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict(_options(
        'protocol=single_source', 'source_domain=D2',
        'train_cfg.max_epochs=2', 'randomness.seed=0',
        *_tiny(epic_root, tmp_path)))
    assert 'runner_type' in cfg
    runner = RUNNERS.build(cfg)
    assert runner.cfg.train_dataloader.dataset.domains == ['D2']
    assert runner.cfg.val_dataloader.dataset.domains == ['D2']
    assert runner.cfg.test_dataloader.dataset.domains == ['D1', 'D3']
    assert runner.cfg.test_evaluator.type == 'DomainAccMetric'
    runner.train()
    train_set = runner.train_dataloader.dataset
    assert {train_set.get_data_info(i)['domain']
            for i in range(len(train_set))} == {'D2'}

    records = read_eval_log(str(tmp_path))
    assert [r['epoch'] for r in records] == [1, 2]
    for record in records:
        assert record['selected'] == 'teacher'
        assert set(record['val']) == set(record['target']) == \
            {'teacher', 'student'}
        for metrics in record['target'].values():
            for key in ('acc/D1/fused_top1', 'acc/D3/fused_top1',
                        'acc/D1/rgb_top1', 'acc/D3/audio_top1'):
                assert key in metrics
    # the offline source-val rule picks the epoch training kept, and the log
    # holds the numbers that checkpoint gets when tested
    results = test_best_checkpoint(runner)
    for key in ('acc/D1/fused_top1', 'acc/D3/fused_top1'):
        chosen = SourceValidation().select(records, target_metric=key)
        assert chosen.epoch == results['best_epoch']
        assert chosen.target_score == pytest.approx(
            results['test_metrics'][key])
    # tools/analyze.py on the work dir (its dumped config, best checkpoint,
    # target split): with nothing removed it reproduces the tested accuracy
    out = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'analyze.py'), 'missing',
         str(tmp_path), '--out', str(tmp_path / 'missing')],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    with open(tmp_path / 'missing.json') as f:
        rows = json.load(f)['rows']
    assert len(rows) == 1 + 3 + 3  # none, each modality, each pair
    assert rows[0]['removed'] == [] and rows[0]['accuracy']['fused'] == \
        pytest.approx(100 * results['test_metrics']['acc/fused_top1'])
    assert osp.getsize(tmp_path / 'missing.png') > 0


TINY_RECIPE = '''
_base_ = [{recipe!r}]
model = dict(encoders=dict(
    rgb=dict(pretrained=None, backbone=dict(
        channel_ratio=4, slow_pathway=dict(depth=18, base_channels=8),
        fast_pathway=dict(depth=18, base_channels=2))),
    audio=dict(pretrained=None)))
_rgb = dict(type='SampleModalityFrames', modality='rgb', clip_len=8,
            frame_interval=2)
_tail = [dict(type='MultiModalNormalize'),
         dict(type='MultiModalFormatShape'),
         dict(type='PackActionInputs', collect_keys=('rgb', 'audio'),
              meta_keys=('domain_id', 'domain', 'uid'))]
_train = [_rgb, dict(type='LoadModalityFrames', modality='rgb'),
          dict(type='LoadAudioSpectrogram', clip_seconds=1.0),
          dict(type='MultiModalResize', short_side=36),
          dict(type='MultiModalRandomResizedCrop', size=32,
               area_range=(0.4, 1.0))] + _tail
_test = [dict(_rgb, test_mode=True),
         dict(type='LoadModalityFrames', modality='rgb'),
         dict(type='LoadAudioSpectrogram', clip_seconds=1.0, test_mode=True),
         dict(type='MultiModalResize', short_side=36),
         dict(type='MultiModalCenterCrop', crop_size=32)] + _tail
train_dataloader = dict(dataset=dict(pipeline=_train))
val_dataloader = dict(dataset=dict(pipeline=_test))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1)
'''


@pytest.mark.slow
def test_recipe_config_trains_with_our_and_stock_tools(epic_root, tmp_path):
    recipe = Config.fromfile(RECIPE)
    assert recipe.model.encoders.rgb.backbone.type == 'ResNet3dSlowFast'
    assert recipe.model.encoders.rgb.backbone.slow_pathway.depth == 50
    assert recipe.param_scheduler[1].T_max == 256  # the recipe's schedule
    assert 'randomness' not in recipe  # as every MMAction2 recipe
    config = tmp_path / 'tiny_recipe.py'
    config.write_text(TINY_RECIPE.format(recipe=RECIPE))
    ours = tmp_path / 'ours'
    results = train(setup_cfg(build_train_parser().parse_args(
        [str(config), '--cfg-options', 'target_domain=D2',
         *_tiny(epic_root, ours)])))
    assert results['target_domain'] == 'D2'
    assert 'acc/fused_top1' in results['test_metrics']
    assert read_eval_log(str(ours))[0]['target']['student']
    stock = tmp_path / 'stock'
    out = subprocess.run(
        [sys.executable, STOCK_TRAIN, str(config), '--work-dir', str(stock),
         '--cfg-options', 'target_domain=D3', *_tiny(epic_root, stock)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(
            [REPO, os.environ.get('PYTHONPATH', '')])))
    assert out.returncode == 0, out.stderr[-3000:]
    dumped = Config.fromfile(str(stock / 'tiny_recipe.py'))
    assert dumped.test_dataloader.dataset.domains == ['D3']
    assert dumped.train_dataloader.dataset.domains == ['D1', 'D2']
    assert [n for n in os.listdir(stock) if n.startswith('best_')]
    assert read_eval_log(str(stock))[0]['target']
