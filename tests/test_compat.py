"""mbcd_mmaction.compat: mmaction import fix and safe checkpoint loading.

Checkpoints are made by a real mmengine Runner (tiny model, param scheduler)
and loaded back with torch's default ``weights_only=True``.
"""
import collections
import os
import os.path as osp
import pickle
import pickletools
import subprocess
import sys
import zipfile

import pytest
import torch

import mbcd_mmaction.registration  # noqa: F401  (registers every component)
from mbcd_mmaction import compat

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.join(HERE, 'apis'))
from apis_testutils import write_tiny_config  # noqa: E402

SCHEDULER = ("param_scheduler = [dict(type='MultiStepLR', by_epoch=True, "
             "milestones=[1, 2], gamma=0.5)]\n")


def test_mmaction_models_import():
    import mmaction.models  # noqa: F401
    from mmaction.models.backbones import ResNet
    assert ResNet(depth=18, in_channels=1).conv1.conv.in_channels == 1


def _run(tmp_path, *flags, max_epochs=2):
    from mbcd_mmaction.apis import build_train_parser, build_runner, setup_cfg
    config = write_tiny_config(tmp_path, max_epochs=max_epochs)
    with open(config, 'a') as f:
        f.write(SCHEDULER)
    cfg = setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', str(tmp_path / 'work'), *flags]))
    runner = build_runner(cfg)
    runner.train()
    return runner


def _globals_in(path):
    with zipfile.ZipFile(path) as z:
        name = [n for n in z.namelist() if n.endswith('data.pkl')][0]
        ops = list(pickletools.genops(z.read(name)))
    found = set()
    for i, (op, arg, _) in enumerate(ops):
        if op.name == 'GLOBAL':
            found.add(arg.replace(' ', '.'))
        elif op.name == 'STACK_GLOBAL':
            found.add(f'{ops[i - 2][1]}.{ops[i - 1][1]}')
    return found


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('ckpt')
    runner = _run(tmp_path, max_epochs=3)
    return tmp_path, runner


def test_real_checkpoints_load_with_weights_only(trained):
    tmp_path, _ = trained
    work = tmp_path / 'work'
    names = ['epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth',
             'best_acc_epoch_1.pth']
    for name in names:
        ckpt = torch.load(str(work / name), map_location='cpu',
                          weights_only=True)
        hub = ckpt['message_hub']
        buffer = hub['log_scalars']['train/loss']
        assert len(buffer.data[0]) > 0
        assert buffer.statistics('mean') == pytest.approx(
            buffer.data[0].mean())
        assert hub['runtime_info']['best_ckpt'].endswith(
            'best_acc_epoch_1.pth')
        assert ckpt['meta']['seed'] == 0
    full = torch.load(str(work / 'epoch_2.pth'), weights_only=True)
    assert full['param_schedulers'][0]['milestones'] == \
        collections.Counter({1: 1, 2: 1})
    assert 'state' in full['optimizer']
    # these are exactly what mmengine 0.10.7 writes (besides torch's own);
    # if this fails, mmengine writes something new: decide whether it is
    # safe before extending compat.mmengine_checkpoint_globals()
    found = set().union(*(_globals_in(str(work / n)) for n in names))
    assert '__builtin__.getattr' in found  # HistoryBuffer statistics
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in found


def test_resume_from_real_checkpoint(trained, tmp_path):
    src, _ = trained
    import shutil
    shutil.copytree(str(src / 'work'), str(tmp_path / 'work'))
    runner = _run(tmp_path, '--resume', str(tmp_path / 'work' / 'epoch_1.pth'),
                  max_epochs=3)
    assert runner.epoch == 3
    assert runner.iter == 3 * 4
    # lr after milestones 1 and 2: 0.5 * 0.5 * 0.5
    assert runner.optim_wrapper.get_lr()['lr'][0] == pytest.approx(0.125)
    # the best checkpoint of the first run survives the resume
    assert runner.message_hub.get_info('best_ckpt').endswith(
        'best_acc_epoch_1.pth')
    # resuming reproduces the uninterrupted run
    fresh = torch.load(str(src / 'work' / 'epoch_3.pth'))['state_dict']
    for key, value in runner.model.state_dict().items():
        assert torch.allclose(value, fresh[key]), key


def test_auto_resume(trained, tmp_path):
    src, _ = trained
    import shutil
    work = tmp_path / 'work'
    shutil.copytree(str(src / 'work'), str(work))
    os.remove(str(work / 'epoch_3.pth'))
    (work / 'last_checkpoint').write_text(str(work / 'epoch_2.pth'))
    runner = _run(tmp_path, '--resume', max_epochs=3)
    assert runner.epoch == 3 and osp.isfile(str(work / 'epoch_3.pth'))
    fresh = torch.load(str(src / 'work' / 'epoch_3.pth'))['state_dict']
    for key, value in runner.model.state_dict().items():
        assert torch.allclose(value, fresh[key]), key


class _System:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return os.system, (self.cmd, )


class _CheckOutput:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return subprocess.check_output, (self.cmd, )


class _GetAttr:
    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return getattr, (HistoryBuffer, '__init__')


@pytest.mark.parametrize('payload,refused', [
    (_System, 'system'), (_CheckOutput, 'check_output')])
def test_crafted_checkpoint_is_refused(tmp_path, payload, refused):
    from mmengine.runner.checkpoint import _load_checkpoint
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': payload(['touch', str(marker)])
                if payload is _CheckOutput else payload(f'touch {marker}')},
               path)
    with pytest.raises(pickle.UnpicklingError) as info:
        torch.load(path)
    with pytest.raises(compat.RefusedGlobalError) as info:
        _load_checkpoint(path, map_location='cpu')
    message = str(info.value)
    assert path in message
    assert refused in message
    assert 'weights_only' in message and 'compat.py' in message
    assert not marker.exists()


def test_getattr_is_restricted(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    path = str(tmp_path / 'getattr.pth')
    torch.save({'meta': _GetAttr()}, path)
    with pytest.raises(pickle.UnpicklingError, match='__init__'):
        torch.load(path)
    with pytest.raises(compat.RefusedGlobalError) as info:
        _load_checkpoint(path)
    assert path in str(info.value)


def test_refused_error_from_runner_load_checkpoint(trained, tmp_path):
    _, runner = trained
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'x': _CheckOutput(['true'])}, path)
    with pytest.raises(compat.RefusedGlobalError, match='evil.pth'):
        runner.load_checkpoint(path)


def test_resume_of_crafted_checkpoint_is_refused_by_train_cli(tmp_path):
    """The --resume path of tools/train.py (MMDGRunner) loads safely."""
    from mbcd_mmaction.apis import build_runner, build_train_parser, \
        setup_cfg
    marker = tmp_path / 'pwned'
    path = str(tmp_path / 'epoch_1.pth')
    torch.save({'meta': {'epoch': 1, 'iter': 4}, 'state_dict': {},
                'random_state': _System(f'touch {marker}')}, path)
    config = write_tiny_config(tmp_path)
    with open(config, 'a') as f:
        f.write("default_scope = 'mmaction'\nrunner_type = 'MMDGRunner'\n")
    cfg = setup_cfg(build_train_parser().parse_args(
        [config, '--work-dir', str(tmp_path / 'work'), '--resume', path]))
    runner = build_runner(cfg)
    with pytest.raises(compat.RefusedGlobalError) as info:
        runner.train()
    assert path in str(info.value) and 'system' in str(info.value)
    assert not marker.exists()


def test_mbcd_random_states_load_with_weights_only(tmp_path):
    """What RandomStateHook writes (also per rank) is allowed."""
    from mbcd_mmaction.engine.hooks.random_state_hook import \
        get_random_state
    path = str(tmp_path / 'rng.pth')
    state = get_random_state()
    torch.save({'random_state': state,
                'random_state_per_rank': [state, get_random_state()]}, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['random_state']['python'] == state['python']
    assert (loaded['random_state']['numpy'][1] == state['numpy'][1]).all()
    assert torch.equal(loaded['random_state_per_rank'][1]['torch'],
                       state['torch'])
