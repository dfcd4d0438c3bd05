"""Issue 17 item 1: a top-level key nothing reads (a typo in
--cfg-options) or a protocol key the chosen protocol does not read is an
error with a did-you-mean, on our tools' path (setup_cfg) and on the stock
`mim train` path (MMDGRunner.from_cfg)."""
import os.path as osp

import pytest
from mmengine.config import Config

from mbcd_mmaction.apis import build_runner, build_train_parser, setup_cfg
from mbcd_mmaction.datasets.protocols import apply_experiment

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs', 'mbcd', 'mbcd_epic_demo.py')


def _cfg(*options):
    return setup_cfg(build_train_parser().parse_args(
        [DEMO, '--cfg-options', *options]))


@pytest.mark.parametrize('option, suggestion', [
    ('target_domian=D2', 'target_domain'),
    ('protocl=single_source', 'protocol'),
    ('modality=audio', 'modalities'),
    ('per_spilt=True', 'per_split'),
])
def test_misspelt_top_level_key_is_an_error(option, suggestion):
    key = option.split('=')[0]
    with pytest.raises(KeyError, match=rf"{key}=.*did you mean "
                       rf".*'{suggestion}'"):
        _cfg(option)


def test_misspelt_key_refused_on_the_stock_runner_path():
    """`mim train` builds the runner with MMDGRunner.from_cfg, which applies
    the experiment (and so the key check) itself."""
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict({'target_domian': 'D2'})
    with pytest.raises(KeyError, match="did you mean 'target_domain'"):
        apply_experiment(cfg)
    from mbcd_mmaction.engine.runner.mmdg_runner import MMDGRunner
    cfg.work_dir = '/nonexistent/never_created'
    with pytest.raises(KeyError, match="did you mean 'target_domain'"):
        MMDGRunner.from_cfg(cfg)


def test_keys_the_config_defines_or_the_run_reads_are_accepted(tmp_path):
    cfg = _cfg('target_domain=D2', 'per_split=False', 'modalities=va')
    assert cfg.target_domain == 'D2'
    # a key the config file itself defines is the config's business
    custom = tmp_path / 'custom.py'
    custom.write_text(f"_base_ = [{DEMO!r}]\nmy_note = 'x'\n")
    cfg = setup_cfg(build_train_parser().parse_args(
        [str(custom), '--cfg-options', 'my_note=y']))
    assert cfg.my_note == 'y'


def test_protocol_key_the_protocol_does_not_read_is_an_error():
    with pytest.raises(KeyError, match=r"source_domain='D2' is not used by "
                       r"protocol='multi_source'.*protocol=single_source"):
        _cfg('source_domain=D2')
    with pytest.raises(KeyError, match=r"target_domain='D2' is not used by "
                       r"protocol='single_source'"):
        _cfg('protocol=single_source', 'source_domain=D1',
             'target_domain=D2')
    # the file's own default target_domain may stay unused
    cfg = _cfg('protocol=single_source', 'source_domain=D2')
    assert cfg.train_dataloader.dataset.domains == ['D2']


def test_test_domains_come_from_the_protocol():
    """A test set given explicitly would be reported as the target's."""
    with pytest.raises(ValueError, match=r"domains=\['D2'\], but protocol "
                       r"'multi_source' tests \['D1'\]"):
        _cfg('target_domain=D1', "test_dataloader.dataset.domains=['D2']")
    cfg = _cfg('target_domain=D1', "test_dataloader.dataset.domains=['D2']",
               'allow_test_domains_override=True')
    assert cfg.test_dataloader.dataset.domains == ['D2']
    # the protocol's own domains given explicitly are fine
    assert _cfg('target_domain=D1', "test_dataloader.dataset.domains="
                "['D1']").test_dataloader.dataset.domains == ['D1']


def test_misspelt_model_type_lists_the_methods():
    with pytest.raises(KeyError, match=r"model.type='MBDC'.*did you mean "
                       r"'MBCD'.*methods of this package: \[.*'ERM'"):
        _cfg('model.type=MBDC')


@pytest.mark.parametrize('option, message', [
    ('train_cfg.max_epoch=1', r"train_cfg.max_epoch: EpochBasedTrainLoop "
     r"takes no such argument; did you mean 'max_epochs'\? Accepted: "),
    ('val_cfg.fp17=True', r"val_cfg.fp17: ValLoop .*'fp16'"),
])
def test_unknown_loop_key_names_the_accepted_ones(option, message):
    with pytest.raises(TypeError, match=message):
        _cfg(option)


def test_launcher_without_its_environment_says_what_is_missing(monkeypatch):
    for name in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match=r"--launcher slurm needs .*"
                       r"'SLURM_PROCID'.*srun"):
        build_runner(setup_cfg(build_train_parser().parse_args(
            [DEMO, '--launcher', 'slurm'])))


def test_teacher_option_on_a_model_without_teacher_says_so():
    erm = osp.join(REPO, 'configs', 'erm', 'erm_epic_demo.py')
    with pytest.raises(KeyError) as info:
        setup_cfg(build_train_parser().parse_args(
            [erm, '--cfg-options', 'model.teacher.momentum=0.01']))
    message = str(info.value)
    assert 'model.teacher.momentum is set, but this config\'s model (ERM) ' \
        'has no teacher' in message
    assert len(message) < 400  # not the model's repr
