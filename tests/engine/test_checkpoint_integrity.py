"""Damaged checkpoints are refused, named, on every load; auto-resume skips
them (MMDGRunner's sha256 files, else the zip's CRCs). Tiny real mmengine
runs (tests/apis components)."""
import hashlib
import importlib.util
import os
import os.path as osp
import zipfile

import pytest
import torch

from apis_testutils import write_tiny_config
from mmdg_testutils import REPO
from mbcd_mmaction.apis import (build_runner, build_test_parser,
                                build_train_parser, setup_cfg,
                                setup_test_cfg, test, test_best_checkpoint)
from mbcd_mmaction.engine.runner import (DamagedCheckpointError,
                                         NoResumableCheckpointError,
                                         checkpoint_problem)

SAFE = ("default_scope = 'mmaction'\nrunner_type = 'MMDGRunner'\n"
        "default_hooks = dict(checkpoint=dict(type='SafeCheckpointHook', "
        "interval=1, max_keep_ckpts=-1, save_best='acc', rule='greater'))\n")


def _config(tmp_path, name, safe=True, max_epochs=2,
            schedule=(0.5, 0.9, 0.7)):
    # one config name per run: mmengine names the message hub after the
    # config and the second
    config = write_tiny_config(tmp_path, name=name, max_epochs=max_epochs,
                               schedule=schedule)
    if safe:
        with open(config, 'a') as f:
            f.write(SAFE)
    return config


def _args(config, work, *extra):
    return setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', str(work), '--seed', '0', *extra]))


def _train(tmp_path, name='run_cfg', **kwargs):
    """A finished 2-epoch run: epoch_1/2.pth, best_acc_epoch_2.pth (with
    the default schedule)."""
    config = _config(tmp_path, name, **kwargs)
    work = tmp_path / 'work'
    runner = build_runner(_args(config, work))
    runner.train()
    return config, work, runner


def _zero_tensor_bytes(path, size=4096):
    """Zero up to ``size`` bytes of the largest tensor record of a
    ``torch.save`` file in place (a disk or copy fault): the zip directory
    stays intact and torch.load loads it without complaint."""
    with zipfile.ZipFile(str(path)) as z:
        info = max((i for i in z.infolist() if '/data/' in i.filename),
                   key=lambda i: i.file_size)
    with open(str(path), 'r+b') as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = (int.from_bytes(f.read(2), 'little')
                               for _ in range(2))
        start = info.header_offset + 30 + name_len + extra_len
        f.seek(start)
        n = min(size, info.file_size)
        before = f.read(n)
        f.seek(start)
        f.write(b'\0' * n)
    assert before != b'\0' * n
    torch.load(str(path), map_location='cpu', weights_only=True)  # loads


def _drop_sha256(path):
    """As for a checkpoint copied without its sha256 file."""
    side = str(path) + '.sha256'
    if osp.exists(side):
        os.remove(side)


def _files(work):
    """The run's files in ``work`` (not the log directories) and their
    content digests."""
    return {name: hashlib.sha256((work / name).read_bytes()).hexdigest()
            for name in os.listdir(str(work)) if (work / name).is_file()}


def test_sha256_file_beside_each_checkpoint(tmp_path):
    config = _config(tmp_path, 'side_cfg', max_epochs=3)
    work = tmp_path / 'work'
    build_runner(_args(config, work, '--cfg-options',
                       'default_hooks.checkpoint.max_keep_ckpts=1')).train()
    # schedule 0.5, 0.9, 0.7: best epoch 2; epoch_1 and _2 pruned with
    # their sha256 files
    names = sorted(p for p in os.listdir(work) if '.pth' in p)
    assert names == ['best_acc_epoch_2.pth', 'best_acc_epoch_2.pth.sha256',
                     'epoch_3.pth', 'epoch_3.pth.sha256']
    for ckpt in ('epoch_3.pth', 'best_acc_epoch_2.pth'):
        digest = hashlib.sha256((work / ckpt).read_bytes()).hexdigest()
        assert (work / (ckpt + '.sha256')).read_text() == \
            f'{digest}  {ckpt}\n'  # sha256sum format


@pytest.mark.parametrize('sidecar', [True, False])
def test_auto_resume_skips_damaged_newest_checkpoint(tmp_path, sidecar):
    """``--resume``: the newest checkpoint is damaged (with its sha256 file,
    or without one: the zip's CRCs) and is skipped, named; training
    continues from the next-newest intact one."""
    # best epoch 1: epoch_1.pth, best_acc_epoch_1.pth, epoch_2.pth
    config, work, _ = _train(tmp_path, f'auto_{sidecar}_cfg',
                             schedule=(0.9, 0.5, 0.7))
    newest = work / 'epoch_2.pth'
    if not sidecar:
        _drop_sha256(newest)
    _zero_tensor_bytes(newest)
    assert (work / 'last_checkpoint').read_text() == str(newest)
    runner = build_runner(_args(config, work, '--resume', '--cfg-options',
                                'train_cfg.max_epochs=3'))
    resumed = runner._load_from
    assert resumed in (str(work / 'epoch_1.pth'),
                       str(work / 'best_acc_epoch_1.pth'))
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
        log = f.read()
    assert f'Not resuming from {newest}: ' in log
    assert ('its sha256 is not the one recorded in epoch_2.pth.sha256'
            if sidecar else 'is damaged (its bytes do not match the CRC-32'
            ) in log
    runner.train()
    assert runner.epoch == 3
    # epoch 2 trained again from epoch 1's state; its file is intact again
    assert torch.load(resumed, map_location='cpu',
                      weights_only=False)['meta']['epoch'] == 1
    assert torch.load(str(work / 'epoch_2.pth'), map_location='cpu',
                      weights_only=False)['meta']['epoch'] == 2
    assert checkpoint_problem(str(work / 'epoch_2.pth')) is None


@pytest.mark.parametrize('sidecar', [True, False])
def test_explicit_resume_of_damaged_checkpoint_is_refused(tmp_path,
                                                          sidecar):
    config, work, _ = _train(tmp_path, f'explicit_{sidecar}_cfg')
    damaged = work / 'epoch_2.pth'
    if not sidecar:
        _drop_sha256(damaged)
    _zero_tensor_bytes(damaged)
    before = _files(work)
    with pytest.raises(DamagedCheckpointError,
                       match=f'Cannot load checkpoint {damaged} '
                       r'\(--resume\): ' + ('its sha256' if sidecar else
                                            'its zip record .* is damaged')):
        build_runner(_args(config, work, '--resume', str(damaged)))
    assert _files(work) == before


def test_explicit_resume_of_truncated_file_names_it(tmp_path):
    config, work, _ = _train(tmp_path, 'trunc_cfg')
    torn = tmp_path / 'copied_epoch_2.pth'
    data = (work / 'epoch_2.pth').read_bytes()
    torn.write_bytes(data[:len(data) // 2])  # e.g. an interrupted copy
    with pytest.raises(DamagedCheckpointError,
                       match=f'Cannot load checkpoint {torn} \\(--resume\\): '
                       'it is truncated or its end is damaged '
                       f'\\({len(data) // 2} bytes: the zip central '
                       'directory'):
        build_runner(_args(config, work, '--resume', str(torn)))


def test_resume_with_every_checkpoint_damaged_stops_listing_them(tmp_path):
    """Checkpoint files exist but none can be resumed from: an error listing
    them, instead of training from the start over them."""
    config, work, _ = _train(tmp_path, 'all_cfg')
    for name in ('epoch_1.pth', 'epoch_2.pth', 'best_acc_epoch_2.pth'):
        _zero_tensor_bytes(work / name)
    before = _files(work)
    with pytest.raises(NoResumableCheckpointError) as info:
        build_runner(_args(config, work, '--resume'))
    text = str(info.value)
    assert f'no checkpoint in {work} can be resumed from' in text
    for name in ('epoch_1.pth', 'epoch_2.pth', 'best_acc_epoch_2.pth'):
        assert f'  {work / name}: its sha256' in text
    # nothing of the run was touched; only a new log directory appeared
    assert _files(work) == before


def test_load_from_damaged_checkpoint_is_refused(tmp_path):
    """``load_from`` (a plain mmengine Runner too: every load through
    mmengine's CheckpointLoader is checked)."""
    config, work, _ = _train(tmp_path, 'load_cfg')
    damaged = work / 'epoch_2.pth'
    _zero_tensor_bytes(damaged)
    cfg = _args(_config(tmp_path, 'load2_cfg'), tmp_path / 'work2')
    cfg.load_from = str(damaged)
    with pytest.raises(DamagedCheckpointError,
                       match=f'Cannot load checkpoint {damaged} '
                       r'\(load_from\): its sha256'):
        build_runner(cfg)
    plain = _args(_config(tmp_path, 'plain_cfg', safe=False),
                  tmp_path / 'work3')
    plain.load_from = str(damaged)
    runner = build_runner(plain)
    assert type(runner).__name__ == 'Runner'
    with pytest.raises(DamagedCheckpointError,
                       match=f'Cannot load checkpoint {damaged}: its sha256'):
        runner.train()


def test_test_tool_refuses_damaged_checkpoint(tmp_path):
    """tools/test.py and the test API, with and without a sha256 file."""
    config, work, _ = _train(tmp_path, 'tool_cfg')
    damaged = work / 'best_acc_epoch_2.pth'
    _zero_tensor_bytes(damaged)
    spec = importlib.util.spec_from_file_location(
        'mbcd_test_tool', osp.join(REPO, 'tools', 'test.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    out = tmp_path / 'out'
    with pytest.raises(DamagedCheckpointError,
                       match=f'Cannot load checkpoint {damaged}: its sha256'):
        tool.main([config, str(damaged), '--work-dir', str(out)])
    assert not out.exists()
    _drop_sha256(damaged)  # e.g. a file copied alone
    cfg = setup_test_cfg(build_test_parser().parse_args(
        [config, str(damaged), '--work-dir', str(out)]))
    with pytest.raises(DamagedCheckpointError,
                       match=f'Cannot load checkpoint {damaged}: its zip '
                       "record '.*/data/.*' is damaged"):
        test(cfg)
    assert not out.exists()


def test_best_checkpoint_test_refuses_damaged_file(tmp_path):
    _, work, runner = _train(tmp_path, 'best_cfg')
    best = work / 'best_acc_epoch_2.pth'
    _zero_tensor_bytes(best)
    with pytest.raises(DamagedCheckpointError,
                       match=f'Cannot load checkpoint {best}: its sha256'):
        test_best_checkpoint(runner)
    assert not (work / 'target_results.json').exists()


def test_checkpoint_without_sha256_file_loads(tmp_path):
    """A file written by torch.save alone (a converted or downloaded one)
    is checked by its CRCs and loads; a legacy-format file loads."""
    config, work, _ = _train(tmp_path, 'plain_load_cfg')
    state = torch.load(str(work / 'epoch_2.pth'), map_location='cpu',
                       weights_only=False)
    for legacy in (False, True):
        path = tmp_path / f'converted_{legacy}.pth'
        torch.save(dict(state_dict=state['state_dict']), str(path),
                   _use_new_zipfile_serialization=not legacy)
        assert checkpoint_problem(str(path)) is None
        runner = build_runner(_args(config, tmp_path / f'w_{legacy}'))
        runner.load_checkpoint(str(path))
        assert torch.equal(runner.model.fc.weight,
                           state['state_dict']['fc.weight'])


@pytest.mark.parametrize('damaged', [False, True])
def test_best_checkpoint_of_another_run_is_copied_with_its_sha256(
        tmp_path, damaged):
    """``--resume PATH`` of another run's checkpoint: its best checkpoint is
    copied in with its sha256 file; a damaged one is not copied."""
    # best epoch 1, not improved in epoch 2
    config, work, _ = _train(tmp_path, f'other_{damaged}_cfg',
                             schedule=(0.9, 0.5, 0.7))
    best = work / 'best_acc_epoch_1.pth'
    if damaged:
        _zero_tensor_bytes(best)
    here = tmp_path / 'here'
    runner = build_runner(_args(config, here, '--resume',
                                str(work / 'epoch_1.pth'), '--cfg-options',
                                'train_cfg.max_epochs=2',
                                # below the best (a tie would move it)
                                'val_evaluator.schedule=[0.1]'))
    runner.train()
    copy = here / best.name
    if damaged:
        assert not copy.exists()
        with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as f:
            assert f'that file is damaged: its sha256' in f.read()
        assert runner.message_hub.get_info('best_ckpt') is None
    else:
        assert copy.read_bytes() == best.read_bytes()
        assert (here / (best.name + '.sha256')).read_bytes() == \
            (work / (best.name + '.sha256')).read_bytes()
        assert runner.message_hub.get_info('best_ckpt') == str(copy)
