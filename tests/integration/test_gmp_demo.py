"""GMP runs of configs/gmp/gmp_epic_demo.py (real Runner, dataset,
model) on generated EPIC-layout data: it learns the task above chance on the
unseen target domain, and 2-process DDP (tools/dist_train.sh, gloo on CPU)
keeps the ranks' weights identical although every rank builds its encoder
gradient by hand inside forward()."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens

from .demo_utils import ROOT, data_options, state_dict, train_demo

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow

GMP_DEMO = osp.join(ROOT, 'configs', 'gmp', 'gmp_epic_demo.py')
CHANCE = 1 / 8
EPOCHS = 5


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('gmp_demo') / 'epic_demo'
    generate_epic_kitchens(str(root))  # the demo's default size
    return str(root)


def test_gmp_demo_learns_above_chance_on_target(demo_root, tmp_path):
    # 5 epochs of 8 iterations (the MBCD demo test runs 20)
    results = train_demo(tmp_path / 'work', demo_root,
                         f'train_cfg.max_epochs={EPOCHS}',
                         'default_hooks.checkpoint.max_keep_ckpts=-1',
                         num_workers=2, config=GMP_DEMO)
    metrics = results['test_metrics']
    assert results['target_domain'] == 'D1'
    assert osp.basename(results['best_checkpoint']).startswith(
        'best_acc_fused_top1_epoch_')
    assert metrics['acc/fused_top1'] >= 2.5 * CHANCE, metrics
    # the discriminator and projections were trained (the port's bug)
    first = state_dict(tmp_path / 'work' / 'epoch_1.pth')
    final = state_dict(tmp_path / 'work' / f'epoch_{EPOCHS}.pth')
    for key in ('gradient_modulation.discriminator.0.weight',
                'gradient_modulation.projections.audio.0.weight'):
        assert not torch.equal(first[key], final[key]), key


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_process_ddp_ranks_end_with_identical_weights(tiny_epic_root,
                                                          tmp_path):
    work_dir = tmp_path / 'work'
    config = tmp_path / 'gmp_ddp.py'
    config.write_text(
        f'_base_ = [{GMP_DEMO!r}]\n'
        "custom_imports = dict(imports=['mbcd_mmaction.registration', 'gmp_ddp_hook'], "
        'allow_failed_imports=False)\n'
        "custom_hooks = [dict(type='RankStateDictHook')]\n")
    env = dict(os.environ, PORT=str(_free_port()))
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env.pop('LOCAL_RANK', None)
    options = data_options(tiny_epic_root) + [
        'train_cfg.max_epochs=2', 'log_level=WARNING',
        'train_dataloader.batch_size=4', 'val_dataloader.batch_size=4',
        'test_dataloader.batch_size=4',
        'default_hooks.checkpoint.max_keep_ckpts=-1']
    env['PYTHONPATH'] = osp.dirname(osp.abspath(__file__)) + os.pathsep + \
        env.get('PYTHONPATH', '')
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), str(config), '2',
         '--work-dir', str(work_dir), '--cfg-options', *options],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    ranks = [torch.load(work_dir / f'final_rank{r}.pth', map_location='cpu')
             for r in (0, 1)]
    assert ranks[0]['world_size'] == ranks[1]['world_size'] == 2
    first = state_dict(work_dir / 'epoch_1.pth')
    params = ranks[0]['params']
    assert params.keys() == ranks[1]['params'].keys()
    for key in params:
        assert torch.equal(params[key], ranks[1]['params'][key]), key
    # every part trained: top stages, heads, discriminator, projections
    for key in ('encoders.audio.backbone.layer4.0.conv1.conv.weight',
                'cls_heads.flow.layers.0.weight',
                'gradient_modulation.discriminator.0.weight',
                'gradient_modulation.projections.rgb.0.weight'):
        assert not torch.equal(first[key], params[key]), key
    # the ranks saw different data, yet the coefficients were global:
    # logged q, c, k, p on both ranks agree
    assert ranks[0]['gmp_logs'] == ranks[1]['gmp_logs']
