"""A real run with one unreadable training clip: by default it stops with
the file named; with ``skip_unreadable=True`` it trains and reports the
skips at the end of the epoch."""
import os
import os.path as osp
import shutil

import pytest

from mbcd_mmaction.datasets.base import UnreadableSampleError

from .demo_utils import train_demo

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow


@pytest.fixture
def broken_root(tiny_epic_root, tmp_path):
    root = str(tmp_path / 'epic')
    shutil.copytree(tiny_epic_root, root)
    frames = osp.join(root, 'rgb', 'train', 'D2', 'P01_01')
    for name in sorted(os.listdir(frames))[:200]:  # the first clips' frames
        open(osp.join(frames, name), 'wb').close()
    return root


def test_unreadable_sample_stops_training_by_default(broken_root, tmp_path):
    with pytest.raises(UnreadableSampleError, match='P01_01'):
        train_demo(tmp_path / 'work', broken_root, 'train_cfg.max_epochs=1')


def test_skip_unreadable_trains_and_reports(broken_root, tmp_path):
    import cv2
    work = tmp_path / 'work'
    # greyscale frames in one D3 training video: loaded (copied into three
    # channels) and reported once for the training dataset
    grey = osp.join(broken_root, 'rgb', 'train', 'D3')
    video = osp.join(grey, sorted(os.listdir(grey))[0])
    for name in os.listdir(video):
        path = osp.join(video, name)
        cv2.imwrite(path, cv2.imread(path, cv2.IMREAD_GRAYSCALE))
    train_demo(work, broken_root, 'train_cfg.max_epochs=1',
               'train_dataloader.dataset.skip_unreadable=True')
    logs = ''.join(open(osp.join(dirpath, f)).read()
                   for dirpath, _, files in os.walk(work)
                   for f in files if f.endswith('.log'))
    assert 'unreadable training samples were skipped' in logs
    skipped = [line for line in logs.splitlines()
               if 'samples were skipped' in line]
    assert skipped and ': 0 unreadable' not in skipped[0], skipped
    # the epoch the log calls [1]
    assert 'epoch 1: ' in skipped[0], skipped
    adjusted = [line for line in logs.splitlines()
                if 'training dataset EpicKitchensDataset' in line]
    assert len(adjusted) == 1, adjusted
    assert 'greyscale RGB frames copied into 3 channels' in adjusted[0]
