"""A run touches files only in its own work directory, writes them
readable for colleagues, names the last good checkpoint after a NaN loss,
and names the global a refused checkpoint pickles. Tiny real mmengine runs
(tests/apis components)."""
import os
import shutil
import stat

import pytest
import torch

from apis_testutils import write_tiny_config

SAFE = ("default_scope = 'mmaction'\nrunner_type = 'MMDGRunner'\n"
        "default_hooks = dict(checkpoint=dict(type='SafeCheckpointHook', "
        "interval=1, max_keep_ckpts=1, save_best='acc', rule='greater'), "
        "non_finite_loss=dict(type='NonFiniteLossHook'))\n")


def _cfg(config, work, *extra):
    from mbcd_mmaction.apis import build_train_parser, setup_cfg
    return setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', str(work), '--seed', '0', *extra]))


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_resume_of_copied_work_dir_leaves_the_original_alone(tmp_path):
    from mbcd_mmaction.apis import train
    config = write_tiny_config(tmp_path, name='copy_cfg', max_epochs=1,
                               schedule=(0.5, 0.7))
    with open(config, 'a') as f:
        f.write(SAFE)
    original, copy = tmp_path / 'original', tmp_path / 'copy'
    train(_cfg(config, original))
    before = sorted(os.listdir(original))
    shutil.copytree(original, copy)

    # the copy's message hub and last_checkpoint name the original's files;
    # validation improves in epoch 3 (0.7 > 0.5), so the previous best goes
    results = train(_cfg(config, copy, '--resume', '--cfg-options',
                         'train_cfg.max_epochs=3'))
    assert sorted(os.listdir(original)) == before
    assert (original / 'best_acc_epoch_1.pth').is_file()
    assert results['best_checkpoint'] == str(copy / 'best_acc_epoch_3.pth')
    assert not (copy / 'best_acc_epoch_1.pth').exists()  # the copy's own
    assert (copy / 'last_checkpoint').read_text() == str(copy / 'epoch_3.pth')


def test_checkpoints_and_results_are_readable_by_others(tmp_path):
    """0644 under umask 022, as mmengine writes them, not mkstemp's 0600."""
    from mbcd_mmaction.apis import train
    config = write_tiny_config(tmp_path, name='mode_cfg', max_epochs=1)
    with open(config, 'a') as f:
        f.write(SAFE)
    umask = os.umask(0o022)
    try:
        train(_cfg(config, tmp_path / 'work'))
    finally:
        os.umask(umask)
    for name in ('epoch_1.pth', 'best_acc_epoch_1.pth', 'last_checkpoint',
                 'target_results.json'):
        assert _mode(tmp_path / 'work' / name) == 0o644, name


class _InfiniteLrFromEpoch2:
    """Sets the learning rate to inf at the start of epoch 2: its first
    step sends the weights to inf (that iteration's loss is still finite,
    and its iteration checkpoint holds the inf weights), the next loss is
    NaN."""

    def __new__(cls):
        from mmengine.hooks import Hook

        class InfiniteLr(Hook):
            def before_train_epoch(self, runner):
                if runner.epoch == 1:
                    for group in runner.optim_wrapper.optimizer.param_groups:
                        group['lr'] = float('inf')
        return InfiniteLr()


def test_nan_loss_names_the_last_good_checkpoint(tmp_path):
    from mbcd_mmaction.apis import build_runner
    from mbcd_mmaction.engine.hooks import NonFiniteLossError
    config = write_tiny_config(tmp_path, name='nan_cfg', max_epochs=2)
    with open(config, 'a') as f:
        f.write(SAFE)
    work = tmp_path / 'work'
    runner = build_runner(_cfg(config, work, '--cfg-options',
                               'default_hooks.checkpoint.iter_interval=1'))
    runner.register_hook(_InfiniteLrFromEpoch2(), priority='LOWEST')
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    # iter_5.pth, the newest checkpoint, was written after the inf step
    assert (work / 'last_checkpoint').read_text() == str(work / 'iter_5.pth')
    assert f'The last good checkpoint (finite weights) is ' \
           f'{work / "epoch_1.pth"}' in str(info.value)


def test_refused_global_is_named_for_every_pickle_protocol(tmp_path):
    """torch names the global for protocol 2 (GLOBAL) only; for protocol 4
    (STACK_GLOBAL) its message is generic."""
    from mmengine.runner.checkpoint import _load_checkpoint

    from mbcd_mmaction.compat import RefusedGlobalError

    class System:
        def __reduce__(self):
            return os.system, ('true', )

    for protocol in (2, 4):
        path = str(tmp_path / f'evil{protocol}.pth')
        torch.save({'state_dict': {}, 'meta': System()}, path,
                   pickle_protocol=protocol)
        with pytest.raises(RefusedGlobalError) as info:
            _load_checkpoint(path, map_location='cpu')
        assert path in str(info.value)
        assert f'`{os.system.__module__}.system`' in str(info.value), \
            str(info.value)
