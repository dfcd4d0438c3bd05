"""Runs of the real demo config (real Runner, dataset, model) on small
generated EPIC-layout data."""
import json
import os.path as osp

import torch

from mbcd_mmaction.apis import build_train_parser, setup_cfg, train

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(ROOT, 'configs', 'mbcd', 'mbcd_epic_demo.py')


def data_options(data_root, num_workers=0):
    opts = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.dataset.data_root={data_root}',
                 f'{loader}.num_workers={num_workers}',
                 f'{loader}.persistent_workers=False']
    return opts


def train_demo(work_dir, data_root, *options, extra_args=(), num_workers=0,
               config=DEMO_CONFIG):
    """``tools/train.py`` on a demo config (default: the MBCD demo);
    returns target_results.json."""
    args = build_train_parser().parse_args([
        config, '--work-dir', str(work_dir), *extra_args,
        '--cfg-options', 'log_level=WARNING',
        *data_options(data_root, num_workers), *options])
    train(setup_cfg(args))
    with open(osp.join(str(work_dir), 'target_results.json')) as f:
        return json.load(f)


def state_dict(path):
    return torch.load(path, map_location='cpu')['state_dict']
