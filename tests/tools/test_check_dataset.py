"""tools/data/check_dataset.py agrees with the loader: what training
rejects (a corrupt jpg in the middle of a clip) is a problem by default,
what it adjusts (clips shorter than the config's clip span: looped) is a
notice, with the config's clip length and frame interval."""
import os
import os.path as osp
import subprocess
import sys

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs', 'mbcd', 'mbcd_epic_demo.py')


def _check(*args):
    return subprocess.run(
        [sys.executable, 'tools/data/check_dataset.py', DEMO, '--no-progress',
         '--cfg-options', 'target_domain=D1', *args], cwd=REPO,
        capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_checker_reports_what_training_rejects_or_loops(tmp_path):
    from mmaction.registry import DATASETS

    from mbcd_mmaction.datasets import apply_protocol
    from mbcd_mmaction.datasets.base import UnreadableSampleError
    from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens
    root = str(tmp_path / 'epic')
    # 12 RGB frames a clip: the demo pipeline's 8 frames 2 apart span 15
    generate_epic_kitchens(root, clips_per_split={'train': 2, 'test': 1},
                           clip_frames=12)
    cfg = Config.fromfile(DEMO)
    apply_protocol(cfg)
    train = dict(cfg.train_dataloader.dataset, data_root=root)
    dataset = DATASETS.build(train)
    info = dataset.get_data_info(0)
    # half of a jpg in the middle (3rd frame) of the first training clip
    middle = osp.join(info['rgb_dir'], info['rgb_tmpl'].format(
        info['rgb_start_index'] + 2))
    with open(middle, 'r+b') as f:
        f.truncate(os.path.getsize(middle) // 2)

    # the loader: the clip (looped: offset 0, frames 0, 2, ... 14 mod 12)
    # reads the corrupt frame and is rejected; the others are looped
    with pytest.raises(UnreadableSampleError, match=middle):
        dataset[0]
    for i in range(1, len(dataset)):
        dataset[i]
    assert dataset.adjusted_samples()['looped'].tolist()[1:] == \
        [1] * (len(dataset) - 1)

    proc = _check('--data-root', root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert [l for l in lines if l.startswith('UNREADABLE')] == [
        f'UNREADABLE {middle}: OpenCV cannot decode the image (used by '
        f'{info["uid"]})'], proc.stdout
    looped = [l for l in lines if l.startswith('LOOPED')]
    assert looped and all('< 15 (the span of one clip' in l or
                          '< 7 (the span' in l for l in looped), looped
    assert '1 problem(s)' in proc.stdout
    assert 'per 1,000 samples' in proc.stdout

    # --quick (first and last frame) misses the corrupt frame
    quick = _check('--data-root', root, '--quick')
    assert quick.returncode == 0, quick.stdout
