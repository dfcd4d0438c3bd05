"""A crafted split pickle runs nothing on any path that reads a split (the
dataset, the checker, the EPIC preparation, the CSV conversion); genuine
split pickles load, and their CSVs give the same rows and dtypes."""
import os
import os.path as osp
import pickle
import subprocess
import sys

import pandas as pd
import pytest
from mmaction.registry import DATASETS

from mbcd_mmaction.compat import pickle_globals
from mbcd_mmaction.datasets.preparation import (check_dataset_cfg,
                                                epic_config,
                                                prepare_epic_kitchens)
from mbcd_mmaction.datasets.split_files import (SPLIT_PICKLE_GLOBALS,
                                                UnsafeSplitError,
                                                convert_split_pickles,
                                                read_split_table)
from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


class _Payload:
    """Unpickling it runs ``touch marker``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.fixture
def root(tmp_path):
    root = tmp_path / 'epic'
    generate_epic_kitchens(str(root), domains=('D1', 'D2'),
                           clips_per_split={'train': 2, 'test': 1})
    return str(root)


def _split_dir(root):
    return osp.join(root, 'MM-SADA_Domain_Adaptation_Splits')


def _plant(root, tmp_path, protocol=pickle.HIGHEST_PROTOCOL,
           name='D2_train.pkl'):
    """Replace a split pickle by a payload; returns (file, marker)."""
    marker = str(tmp_path / 'payload_ran')
    path = osp.join(_split_dir(root), name)
    with open(path, 'wb') as f:
        pickle.dump(_Payload(marker), f, protocol=protocol)
    return path, marker


def _refused(path):
    return rf'{path}: refused to load .* `(posix|os|nt)\.system`'


@pytest.mark.parametrize('protocol', [2, pickle.HIGHEST_PROTOCOL])
def test_dataset_refuses_a_crafted_split_and_runs_nothing(root, tmp_path,
                                                           protocol):
    path, marker = _plant(root, tmp_path, protocol)
    with pytest.raises(UnsafeSplitError, match=_refused(path)):
        DATASETS.build(dict(type='EpicKitchensDataset', data_root=root,
                            domains=['D1', 'D2'], split='train'))
    assert not osp.exists(marker)


def test_training_refuses_a_crafted_split_and_runs_nothing(root, tmp_path):
    import mbcd_mmaction.registration  # noqa: F401
    from mbcd_mmaction.apis import setup_cfg, train
    path, marker = _plant(root, tmp_path)
    cfg = setup_cfg([osp.join(REPO, 'configs/mbcd/mbcd_epic_demo.py'),
                     '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                     'target_domain=D3', f'data_root={root}'])
    with pytest.raises(UnsafeSplitError, match=_refused(path)):
        train(cfg)
    assert not osp.exists(marker)


def test_checker_reports_a_crafted_split_and_runs_nothing(root, tmp_path):
    path, marker = _plant(root, tmp_path)
    report = check_dataset_cfg(epic_config(root, domains=('D1', 'D2')),
                               progress=False)
    assert [p.kind for p in report['problems']] == ['split']
    assert path in str(report['problems'][0])
    assert 'system' in str(report['problems'][0])
    assert not osp.exists(marker)
    proc = subprocess.run(
        [sys.executable, 'tools/data/check_dataset.py', '--epic', root,
         '--no-progress'], cwd=REPO, capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert path in proc.stdout and 'refused to load' in proc.stdout
    assert not osp.exists(marker)


def test_preparation_and_conversion_refuse_a_crafted_split(root, tmp_path):
    path, marker = _plant(root, tmp_path)
    with pytest.raises(UnsafeSplitError, match=_refused(path)):
        prepare_epic_kitchens(str(tmp_path / 'download'), _split_dir(root),
                              str(tmp_path / 'out'), domains=('D2', ),
                              progress=False)
    with pytest.raises(UnsafeSplitError, match=_refused(path)):
        convert_split_pickles(_split_dir(root), str(tmp_path / 'csv'))
    assert not osp.exists(marker)
    assert not osp.exists(tmp_path / 'csv' / 'D1_train.csv')


def _globals(path):
    """(module, name) of every global a pickle names (opcodes only)."""
    with open(path, 'rb') as f:
        return set(pickle_globals(f.read()))


def test_genuine_pickles_load_and_their_csv_round_trips(root, tmp_path):
    split_dir = _split_dir(root)
    pkl = osp.join(split_dir, 'D1_train.pkl')
    # what pandas writes is in the allow-list (and nothing is needed
    # beyond what it lists)
    assert _globals(pkl) <= SPLIT_PICKLE_GLOBALS, \
        _globals(pkl) - SPLIT_PICKLE_GLOBALS
    genuine = pd.read_pickle(pkl)
    table = read_split_table(pkl)
    assert table.to_dict('records') == genuine.to_dict('records')
    # every pickle protocol pandas can write; uid as the index
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        for frame in (genuine, genuine.set_index('uid')):
            other = str(tmp_path / f'p{protocol}.pkl')
            frame.to_pickle(other, protocol=protocol)
            assert _globals(other) <= SPLIT_PICKLE_GLOBALS, protocol
            pd.testing.assert_frame_equal(read_split_table(other), table)

    def build():
        ds = DATASETS.build(dict(type='EpicKitchensDataset', data_root=root,
                                 domains=['D1', 'D2'], split='train'))
        return [ds.get_data_info(i) for i in range(len(ds))]

    from_pickles = build()
    assert from_pickles[0]['ann_file'] == pkl
    written = convert_split_pickles(split_dir)
    assert sorted(map(osp.basename, written)) == [
        'D1_test.csv', 'D1_train.csv', 'D2_test.csv', 'D2_train.csv']
    csv = osp.join(split_dir, 'D1_train.csv')
    pd.testing.assert_frame_equal(read_split_table(csv), table)
    # the CSV is preferred; the samples are the same
    from_csv = build()
    assert from_csv[0]['ann_file'] == csv
    for a, b in zip(from_pickles, from_csv):
        a.pop('ann_file'), b.pop('ann_file')
        assert a == b
        assert {k: type(v) for k, v in a.items()} == \
            {k: type(v) for k, v in b.items()}
    assert len(from_csv) == len(from_pickles) == 4
    with pytest.raises(FileExistsError, match='D1_test.csv exists'):
        convert_split_pickles(split_dir)
    # the tool is a thin CLI over convert_split_pickles
    import runpy
    tool = runpy.run_path(osp.join(REPO, 'tools/data/convert_splits.py'))
    assert tool['main']([split_dir, '--out', str(tmp_path / 'csv')]) == 0
    pd.testing.assert_frame_equal(
        read_split_table(str(tmp_path / 'csv' / 'D1_train.csv')), table)
