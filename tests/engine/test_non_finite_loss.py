"""A NaN/inf loss stops training with an error naming the iteration and
the loss values, before a checkpoint of that iteration is written."""
import os

import pytest

from apis_testutils import write_tiny_config


def test_nan_loss_stops_with_iteration_and_values(tmp_path):
    from mbcd_mmaction.apis import build_runner, build_train_parser, \
        setup_cfg
    from mbcd_mmaction.engine.hooks import NonFiniteLossError
    config = write_tiny_config(tmp_path, max_epochs=2)
    with open(config, 'a') as f:
        f.write("default_scope = 'mmaction'\n"
                "default_hooks = dict(non_finite_loss=dict("
                "type='NonFiniteLossHook'))\n")
    # lr inf: the first step sends the weights to inf, the second
    # iteration's loss is NaN
    cfg = setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', str(tmp_path / 'work'), '--cfg-options',
         'optim_wrapper.optimizer.lr=inf']))
    runner = build_runner(cfg)
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    message = str(info.value)
    assert 'training iteration 2 ' in message
    assert '(epoch 1, batch 2/4)' in message
    assert 'loss=nan' in message
    assert not [p for p in os.listdir(tmp_path / 'work')
                if p.endswith('.pth')]


def test_finite_losses_pass(tmp_path):
    from mbcd_mmaction.engine.hooks import NonFiniteLossHook

    class Runner:
        iter, epoch = 0, 0

    import torch
    NonFiniteLossHook().after_train_iter(
        Runner(), 0, outputs=dict(loss=torch.tensor(1.0),
                                  rgb_drop_prob=torch.tensor(float('nan'))))
