"""The README's demo job (configs/mbcd/mbcd_epic_demo.py: MBCD, real
Runner, real decoding, multi-source D2+D3 -> D1) learns the generated task:
the best source-validation checkpoint is far above chance (1/8) on the
unseen target domain."""
import os.path as osp

import pytest

from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens

from .demo_utils import train_demo

# Real runners, processes and decoding: the slow tier.
pytestmark = pytest.mark.slow

CHANCE = 1 / 8


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo') / 'epic_demo'
    generate_epic_kitchens(str(root))  # the demo's default size
    return str(root)


def test_demo_learns_above_chance_on_target(demo_root, tmp_path):
    # The demo as users run it, without the eval log's extra passes over
    # the target and the student at every epoch (tests/experiments cover
    # the log): they are most of this test's time, not what it checks.
    results = train_demo(tmp_path / 'work', demo_root,
                         'default_hooks.eval_log.evaluate_target=False',
                         'default_hooks.eval_log.evaluate_student=False',
                         num_workers=2)
    metrics = results['test_metrics']
    assert results['target_domain'] == 'D1'
    # model selection on source validation, not on the target
    assert osp.basename(results['best_checkpoint']).startswith(
        'best_acc_fused_top1_epoch_')
    assert metrics['acc/fused_top1'] >= 3 * CHANCE, metrics
    # the modalities with the clearest cues learn on their own too
    assert metrics['acc/audio_top1'] >= 3 * CHANCE, metrics
    assert metrics['acc/rgb_top1'] >= 2 * CHANCE, metrics
