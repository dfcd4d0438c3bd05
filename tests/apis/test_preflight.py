"""What is checked before the first training iteration or before testing:
every split the run needs, labels against num_classes, target leakage,
a work directory holding another run, a checkpoint that does not match
the config or holds NaN weights or gives NaN outputs."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from apis_testutils import write_tiny_config
from tests.integration.demo_utils import data_options
from mbcd_mmaction.apis import (WorkDirInUseError, build_test_parser,
                                build_train_parser, setup_cfg,
                                setup_test_cfg, test, train)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'mbcd', 'mbcd_epic_demo.py')


def _train_cfg(config, work, *options):
    args = [config, '--work-dir', str(work), '--seed', '0']
    if options:
        args += ['--cfg-options', *options]
    return setup_cfg(build_train_parser().parse_args(args))


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A finished tiny run: (config, work dir)."""
    tmp = tmp_path_factory.mktemp('trained')
    config = write_tiny_config(tmp, name='trained_cfg', max_epochs=1)
    work = tmp / 'work'
    train(_train_cfg(config, work))
    return config, work


def test_empty_target_split_is_refused_before_training(tmp_path):
    config = write_tiny_config(tmp_path, max_epochs=1)
    work = tmp_path / 'work'
    with pytest.raises(ValueError, match=r'test_dataloader\.dataset .*no '
                       'samples'):
        train(_train_cfg(config, work, 'test_dataloader.dataset.length=0'))
    assert not [p for p in os.listdir(work) if p.endswith('.pth')]


def test_target_domain_in_explicit_training_domains_is_refused():
    options = ['train_dataloader.dataset.domains=[D1,D2]']
    with pytest.raises(ValueError, match=r"train_dataloader\.dataset\.domains"
                       r"=\['D1', 'D2'\] includes the target domain\(s\) "
                       r"\['D1'\]"):
        _train_cfg(DEMO_CONFIG, 'unused', *options)
    # an explicit, logged opt-in
    cfg = _train_cfg(DEMO_CONFIG, 'unused', *options,
                     'allow_target_in_training=True')
    assert cfg.train_dataloader.dataset.domains == ['D1', 'D2']


def test_labels_beyond_num_classes_name_key_label_and_file(tmp_path):
    from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens
    root = str(tmp_path / 'epic')
    generate_epic_kitchens(root, clips_per_split={'train': 2, 'test': 1},
                           clip_frames=20)
    options = ['model.num_classes=1', 'log_level=WARNING',
               *data_options(root)]
    work = tmp_path / 'work'
    with pytest.raises(ValueError) as info:
        train(_train_cfg(DEMO_CONFIG, work, *options))
    message = str(info.value)
    assert 'model.num_classes=1' in message, message
    assert 'MM-SADA_Domain_Adaptation_Splits/D2_train.pkl' in message
    assert 'has label ' in message
    assert not [p for p in os.listdir(work) if p.endswith('.pth')]


def test_second_run_into_a_finished_work_dir_is_refused(trained):
    config, work = trained
    results = (work / 'target_results.json').read_text()
    pointer = (work / 'last_checkpoint').read_text()
    with pytest.raises(WorkDirInUseError, match='--resume'):
        train(_train_cfg(config, work))
    assert (work / 'target_results.json').read_text() == results
    assert (work / 'last_checkpoint').read_text() == pointer


def _test_cfg(config, checkpoint, out):
    return setup_test_cfg(build_test_parser().parse_args(
        [config, str(checkpoint), '--work-dir', str(out)]))


def test_mismatched_checkpoint_is_an_error_unless_allowed(trained, tmp_path):
    config, work = trained
    state = torch.load(str(work / 'epoch_1.pth'), map_location='cpu')
    state['state_dict']['head.weight'] = state['state_dict'].pop('fc.weight')
    other = tmp_path / 'other_model.pth'
    torch.save(state, str(other))
    with pytest.raises(RuntimeError, match=r'other_model\.pth does not fit '
                       r'.*trained_cfg\.py.*1 key\(s\) the model lacks: '
                       r'head\.weight; 1 key\(s\) of the model it lacks: '
                       r'fc\.weight.*--allow-key-mismatch'):
        test(_test_cfg(config, other, tmp_path / 'strict'))
    assert not (tmp_path / 'strict' / 'test_results.json').exists()
    results = test(_test_cfg(config, other, tmp_path / 'lenient'),
                   strict=False)
    assert 'top1' in results['test_metrics']
    # the same test run again replaces its results (a documented flow:
    # tools/test.py re-run on the same checkpoint) ...
    again = test(_test_cfg(config, other, tmp_path / 'lenient'),
                 strict=False)
    assert again['test_metrics'] == results['test_metrics']
    # ... but a test of another checkpoint does not overwrite it
    with pytest.raises(WorkDirInUseError, match='test_results.json'):
        test(_test_cfg(config, work / 'epoch_1.pth', tmp_path / 'lenient'),
             strict=False)


def test_test_tool_refuses_nan_weights(trained, tmp_path):
    config, work = trained
    state = torch.load(str(work / 'epoch_1.pth'), map_location='cpu')
    state['state_dict']['fc.bias'][0] = float('nan')
    bad = tmp_path / 'diverged.pth'
    torch.save(state, str(bad))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [osp.dirname(osp.abspath(__file__)), REPO,
         os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'test.py'), config,
         str(bad), '--work-dir', str(tmp_path / 'out')], cwd=str(tmp_path),
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert 'NonFiniteWeightsError' in proc.stderr
    assert f'Checkpoint {bad} holds NaN or infinite weights: fc.bias' in \
        proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / 'out' / 'test_results.json').exists()


def test_overflowing_outputs_stop_the_test(trained, tmp_path):
    """Finite weights whose logits overflow to inf/NaN."""
    from mbcd_mmaction.engine.hooks import NonFiniteOutputError
    config, work = trained
    state = torch.load(str(work / 'epoch_1.pth'), map_location='cpu')
    state['state_dict']['fc.weight'].fill_(3e38)
    bad = tmp_path / 'overflow.pth'
    torch.save(state, str(bad))
    with pytest.raises(NonFiniteOutputError, match=f'checkpoint {bad}'):
        test(_test_cfg(config, bad, tmp_path / 'out'))
    assert not (tmp_path / 'out' / 'test_results.json').exists()


def test_missing_dataset_says_how_to_get_one(tmp_path):
    from mmaction.registry import DATASETS
    with pytest.raises(FileNotFoundError) as info:
        DATASETS.build(dict(type='EpicKitchensDataset',
                            data_root=str(tmp_path / 'nothing'),
                            domains=['D1']))
    message = str(info.value)
    assert 'python -m mbcd_mmaction.datasets.synthetic --dataset epic ' \
           f'--root {tmp_path / "nothing"}' in message
    assert 'tools/data/check_dataset.py' in message
    assert 'tools/data/prepare_epic_kitchens.py' in message


def test_setup_depends_on_one_opencv():
    """mmengine and mmcv-lite require opencv-python and mmaction2 requires
    opencv-contrib-python (noted in setup.py); setup.py adds none besides the
    one mmaction2 needs."""
    import ast
    from importlib.metadata import requires
    tree = ast.parse(open(osp.join(REPO, 'setup.py')).read())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call)
                and getattr(n.func, 'id', '') == 'setup')
    install = next(k.value for k in call.keywords
                   if k.arg == 'install_requires')
    ours = [e.value for e in install.elts if 'opencv' in e.value]
    assert len(ours) == 1, ours
    mmaction_cv = [r.split(';')[0].strip() for r in requires('mmaction2')
                   if r.startswith('opencv')]
    assert ours[0].split('>')[0].split('=')[0] in [
        r.split('>')[0].split('=')[0] for r in mmaction_cv], mmaction_cv


def test_missing_hac_dataset_gives_the_hac_command(tmp_path):
    from mmaction.registry import DATASETS
    with pytest.raises(FileNotFoundError) as info:
        DATASETS.build(dict(type='HACDataset',
                            data_root=str(tmp_path / 'nothing'),
                            domains=['human']))
    message = str(info.value)
    assert 'python -m mbcd_mmaction.datasets.synthetic --dataset hac ' \
           f'--root {tmp_path / "nothing"}' in message
    assert 'tools/demo.py' not in message  # it writes EPIC data only


def test_missing_flow_folder_is_found_before_training(tmp_path):
    import shutil

    from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens
    root = str(tmp_path / 'epic')
    generate_epic_kitchens(root, clips_per_split={'train': 2, 'test': 1},
                           clip_frames=20)
    flow = osp.join(root, 'flow', 'train', 'D3')
    victim = sorted(os.listdir(flow))[0]
    shutil.rmtree(osp.join(flow, victim))
    options = ['log_level=WARNING', *data_options(root)]
    work = tmp_path / 'work'
    with pytest.raises(FileNotFoundError) as info:
        train(_train_cfg(DEMO_CONFIG, work, *options))
    message = str(info.value)
    assert f'the flow folder {osp.join(flow, victim)}' in message, message
    assert 'skip_unreadable=True' in message
    assert not osp.isdir(work) or not [
        p for p in os.listdir(work) if p.endswith('.pth')]
