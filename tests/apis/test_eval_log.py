"""The eval log of a real (tiny) run: which validations score the target,
and what each line says about the run that wrote it."""
import json
import os.path as osp

from apis_testutils import write_tiny_config
from mbcd_mmaction.apis import build_runner, build_train_parser, setup_cfg


def _run(tmp_path, max_epochs, hook, extra_args=()):
    config = write_tiny_config(tmp_path, max_epochs=max_epochs,
                               schedule=[0.5] * max_epochs)
    with open(config, 'a') as f:
        f.write(f"custom_hooks = [dict(type='mmaction.EvalLogHook', "
                f"{hook})]\n")
    work_dir = str(tmp_path / 'work')
    cfg = setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', work_dir, '--seed', '0', *extra_args]))
    build_runner(cfg).train()
    with open(osp.join(work_dir, 'eval_log.jsonl')) as f:
        return [json.loads(line) for line in f]


def test_target_interval_follows_every_n_and_keeps_the_last(tmp_path):
    records = _run(tmp_path, 10, 'target_interval=4')
    assert [r['epoch'] for r in records] == list(range(1, 11))
    # validations 4, 8 and the last (10); not 1, 5, 9
    assert [r['epoch'] for r in records if r['target']] == [4, 8, 10]


def test_target_metrics_reach_the_visualisation_backends(tmp_path):
    """Source-val vs target is one TensorBoard away: the eval log's target
    metrics go to the run's vis backends (here mmengine's local one)."""
    config = write_tiny_config(tmp_path, max_epochs=2, schedule=[0.5] * 2)
    with open(config, 'a') as f:
        f.write("custom_hooks = [dict(type='mmaction.EvalLogHook')]\n"
                "visualizer = dict(type='Visualizer', "
                "vis_backends=[dict(type='LocalVisBackend')])\n")
    work_dir = tmp_path / 'work'
    cfg = setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', str(work_dir), '--seed', '0']))
    build_runner(cfg).train()
    scalars, = work_dir.glob('*/vis_data/scalars.json')
    lines = [json.loads(line) for line in scalars.read_text().splitlines()]
    target = [line for line in lines if 'target/student/top1' in line]
    assert [line['step'] for line in target] == [1, 2]


def test_vis_option_adds_the_backend_or_says_what_to_install(tmp_path):
    import importlib.util

    import pytest
    config = write_tiny_config(tmp_path)
    with open(config, 'a') as f:
        f.write("visualizer = dict(type='Visualizer', "
                "vis_backends=[dict(type='LocalVisBackend')])\n")
    args = build_train_parser().parse_args([config, '--vis', 'tensorboard'])
    if importlib.util.find_spec('tensorboard') is None:
        with pytest.raises(ModuleNotFoundError, match=r'pip install -e '
                           r'"\.\[tb\]"'):
            setup_cfg(args)
    else:
        backends = setup_cfg(args).visualizer.vis_backends
        assert [b['type'] for b in backends] == [
            'LocalVisBackend', 'TensorboardVisBackend']


def test_run_summary_names_selection_target_and_file():
    from mbcd_mmaction.apis.runner import run_summary
    text = run_summary(dict(
        best_epoch=3, best_checkpoint='/w/best_acc_fused_top1_epoch_3.pth',
        best_val_metric='acc/fused_top1', best_val_score=0.8125,
        experiment=dict(test=dict(domains=['D1'])),
        test_metrics={'acc/fused_top1': 0.5, 'acc/rgb_top1': 0.25,
                      'acc/fused_mean1': 0.4}), '/w/target_results.json')
    assert 'selected: epoch 3 (best_acc_fused_top1_epoch_3.pth), ' \
        'source-val acc/fused_top1 = 81.25 %' in text
    assert "target ['D1']:" in text
    assert '  acc/fused_top1                50.00 %' in text
    assert 'mean1' not in text
    assert text.splitlines()[-2] == 'results: /w/target_results.json'
