"""tools/test.py given a checkpoint of another method says so in a few
lines: which checkpoint, which config, what the checkpoint looks like."""
import os.path as osp
import runpy

import pytest
import torch
from mmaction.registry import MODELS

from mbcd_mmaction.apis.config import load_cfg
from mbcd_mmaction.apis.runner import CheckpointMismatchError

from .demo_utils import ROOT, data_options

pytestmark = pytest.mark.slow

TEST = runpy.run_path(osp.join(ROOT, 'tools', 'test.py'))['main']


def test_checkpoint_of_another_method_is_explained(tiny_epic_root,
                                                   tmp_path):
    mbcd = load_cfg(osp.join(ROOT, 'configs', 'mbcd', 'mbcd_epic_demo.py'))
    checkpoint = str(tmp_path / 'mbcd.pth')
    torch.save(dict(state_dict=MODELS.build(mbcd.model).state_dict(),
                    meta=dict()), checkpoint)
    erm = osp.join(ROOT, 'configs', 'erm', 'erm_epic_demo.py')
    with pytest.raises(CheckpointMismatchError) as error:
        TEST([erm, checkpoint, '--work-dir', str(tmp_path / 'test'),
              '--cfg-options', *data_options(tiny_epic_root)])
    message = str(error.value)
    assert checkpoint in message and erm in message
    assert 'teacher.*' in message
    assert 'an EMA, MBCD or CMRF checkpoint' in message
    assert '--allow-key-mismatch' in message
    assert len(message) < 1000  # not mmengine's list of every key
