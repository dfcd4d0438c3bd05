"""The frozen-trunk cache under DDP, as users run it: tools/cache_features.py
writes the cache, tools/dist_train.sh trains 2 CPU processes from it. Each
rank reads its own half of the clips, the ranks end with the same weights,
and the target is tested from the cache."""
import json
import os.path as osp
import sys

import pytest
import torch

from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.join(osp.dirname(HERE), 'engine'))
from mmdg_testutils import (DEMO_CONFIG, REPO, data_options,  # noqa: E402
                            dist_train_cmd, run)

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow

VIEWS = 2
TRAIN_CLIPS = 2 * 4  # D2 + D3 train splits
BATCH = 2  # per rank


def test_two_processes_train_from_the_cache(tmp_path):
    data = tmp_path / 'epic_tiny'
    generate_epic_kitchens(str(data), clips_per_split=dict(train=4, test=2))
    # the demo's EMA hook plus one saving each rank's weights at the end
    # (tests/integration/gmp_ddp_hook.py)
    config = tmp_path / 'cfg.py'
    config.write_text(
        f'_base_ = [{DEMO_CONFIG!r}]\n'
        "custom_imports = dict(imports=['mbcd_mmaction.registration', "
        "'tests.integration.gmp_ddp_hook'], allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='TeacherUpdateHook'), "
        "dict(type='RankStateDictHook')]\n")
    opts = data_options(data)
    cache = tmp_path / 'cache'
    run([sys.executable, osp.join(REPO, 'tools', 'cache_features.py'),
         DEMO_CONFIG, '--out', str(cache), '--num-views', str(VIEWS),
         '--cfg-options', *opts], cwd=tmp_path)
    work = tmp_path / 'ddp'
    run(dist_train_cmd(str(config), 2, work, *opts, 'train_cfg.max_epochs=1',
                       f'train_dataloader.batch_size={BATCH}',
                       f'trunk_cache.dir={cache}',
                       f'trunk_cache.num_views={VIEWS}'), cwd=tmp_path)

    with open(work / 'target_results.json') as f:
        results = json.load(f)
    assert {'acc/fused_top1', 'acc/audio_top1'} <= set(results['test_metrics'])
    # one pass over the clips, split between the ranks
    assert results['best_iter'] == TRAIN_CLIPS // (2 * BATCH)
    ranks = [torch.load(work / f'final_rank{r}.pth') for r in (0, 1)]
    assert ranks[0]['world_size'] == ranks[1]['world_size'] == 2
    params = ranks[0]['params']
    assert params.keys() == ranks[1]['params'].keys()
    for k in params:
        assert torch.equal(params[k], ranks[1]['params'][k]), k
    # the run read the cache: its datasets are the cached ones
    with open(work / 'cfg.py') as f:
        dumped = f.read()
    assert 'CachedTrunkDataset' in dumped and str(cache) in dumped
