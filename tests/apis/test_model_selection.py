"""The paper's model selection: test the best source-val checkpoint."""
import json
import os.path as osp

import pytest
import torch

from apis_testutils import write_tiny_config
from mbcd_mmaction.apis import (ModelSelectionError, build_runner,
                                build_train_parser, setup_cfg, test,
                                test_best_checkpoint, train)


def _train(tmp_path, **kwargs):
    config = write_tiny_config(tmp_path, **kwargs)
    work_dir = str(tmp_path / 'work')
    cfg = setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', work_dir, '--seed', '1']))
    return cfg, work_dir


def _weights(path):
    return json.load(open(path))['values']


def _ckpt_weights(path):
    state = torch.load(path, map_location='cpu')['state_dict']
    return torch.cat([state['fc.weight'].flatten(),
                      state['fc.bias']]).tolist()


@pytest.mark.parametrize('schedule,best_epoch', [((0.9, 0.5, 0.7), 1),
                                                 ((0.1, 0.8, 0.3), 2),
                                                 # a tie: the later epoch,
                                                 # as the authors' scripts
                                                 ((0.8, 0.8, 0.5), 2)])
def test_best_val_checkpoint_is_tested(tmp_path, schedule, best_epoch):
    cfg, work_dir = _train(tmp_path, schedule=schedule)
    results = train(cfg)
    saved = json.load(open(osp.join(work_dir, 'target_results.json')))
    assert saved == json.loads(json.dumps(saved))  # plain JSON
    assert saved['best_checkpoint'] == osp.join(
        work_dir, f'best_acc_epoch_{best_epoch}.pth')
    assert saved['best_epoch'] == best_epoch
    assert saved['best_val_metric'] == 'acc'
    assert saved['best_val_score'] == pytest.approx(max(schedule))
    assert saved['config'] == 'tiny_cfg'
    assert saved['seed'] == 1
    assert 'top1' in saved['test_metrics']
    assert results['best_epoch'] == best_epoch
    # the weights in the model at test time are the best epoch's ...
    tested = _weights(osp.join(work_dir, 'weights_test_rank0.json'))
    assert tested == pytest.approx(
        _ckpt_weights(osp.join(work_dir, f'epoch_{best_epoch}.pth')))
    # ... and not the last ones (training did change them)
    last = _weights(osp.join(work_dir, 'weights_train_rank0.json'))
    assert tested != pytest.approx(last)
    assert not [p for p in __import__('os').listdir(work_dir)
                if p.endswith('.tmp')]


def test_config_without_save_best_is_refused(tmp_path):
    cfg, _ = _train(tmp_path, save_best='')
    with pytest.raises(ModelSelectionError, match='save_best'):
        train(cfg)


def test_runner_without_save_best_is_refused(tmp_path):
    cfg, work_dir = _train(tmp_path, save_best='', max_epochs=1)
    runner = build_runner(cfg)
    runner.train()
    with pytest.raises(ModelSelectionError, match='save_best'):
        test_best_checkpoint(runner)
    assert not osp.exists(osp.join(work_dir, 'target_results.json'))


def test_test_api_writes_results(tmp_path):
    cfg, work_dir = _train(tmp_path, max_epochs=1)
    train(cfg)
    config = write_tiny_config(tmp_path, name='tiny_cfg')
    from mbcd_mmaction.apis import build_test_parser, setup_test_cfg
    ckpt = osp.join(work_dir, 'epoch_1.pth')
    out = str(tmp_path / 'test_out')
    cfg = setup_test_cfg(build_test_parser().parse_args(
        [config, ckpt, '--work-dir', out]))
    results = test(cfg)
    saved = json.load(open(osp.join(out, 'test_results.json')))
    assert saved['checkpoint'] == ckpt
    assert saved['test_metrics'] == results['test_metrics']
    assert _weights(osp.join(out, 'weights_test_rank0.json')) == \
        pytest.approx(_ckpt_weights(ckpt))


def test_two_runs_of_one_config_never_share_a_message_hub(tmp_path):
    """mmengine names a run after its config and the second it starts: two
    runs of one config in one second would share the hub that records the
    best checkpoint, and the second would test the first's."""
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    first, _ = _train(tmp_path / 'a', name='same_cfg')
    second, _ = _train(tmp_path / 'b', name='same_cfg')
    hubs = [build_runner(cfg).message_hub for cfg in (first, second)]
    assert hubs[0] is not hubs[1]
    hubs[0].update_info('best_ckpt', 'first.pth')
    assert hubs[1].get_info('best_ckpt') is None


def test_results_report_ties_and_the_last_epoch(tmp_path):
    """target_results.json says how many epochs share the selected source-
    validation score (the later is kept) and gives the last epoch's
    metrics from the eval log beside the selected checkpoint's."""
    config = write_tiny_config(tmp_path, schedule=(0.9, 0.9, 0.7),
                               max_epochs=3)
    work_dir = str(tmp_path / 'work')
    cfg = setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', work_dir, '--seed', '1', '--cfg-options',
         'default_hooks.eval_log.type=mmaction.EvalLogHook']))
    train(cfg)
    saved = json.load(open(osp.join(work_dir, 'target_results.json')))
    assert saved['best_epoch'] == 2
    selection = saved['selection']
    assert 'a tie goes to the later epoch' in selection['rule']
    assert selection['tied_epochs'] == [1, 2]
    assert selection['num_tied'] == 2
    assert selection['num_validations'] == 3
    last = selection['last_epoch']
    assert last['epoch'] == 3 and last['model'] == 'student'
    assert last['val']['acc'] == pytest.approx(0.7)
    assert 0.0 <= last['target']['top1'] <= 1.0


def test_results_without_an_eval_log_say_so(tmp_path):
    cfg, work_dir = _train(tmp_path)
    train(cfg)
    saved = json.load(open(osp.join(work_dir, 'target_results.json')))
    # the rule, but no tie count or last epoch without an eval log
    assert set(saved['selection']) == {'rule', 'metric'}
