"""Bad files stop loading with an error naming the file; with
``skip_unreadable=True`` training skips and counts them instead."""
import os
import os.path as osp
import re

import numpy as np
import pandas as pd
import pytest
from mmaction.registry import DATASETS
from mmengine.config import Config

from mbcd_mmaction.datasets.base import UnreadableSampleError
from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens

PIPELINE = Config.fromfile(
    'configs/_base_/datasets/epic_kitchens_demo.py').test_pipeline


@pytest.fixture
def root(tmp_path):
    root = tmp_path / 'epic'
    generate_epic_kitchens(str(root), layout='both', domains=('D1', ),
                           clips_per_split={'train': 4, 'test': 4})
    return str(root)


def _dataset(root, layout='frames', pipeline=PIPELINE, **kwargs):
    return DATASETS.build(dict(
        type='EpicKitchensDataset', data_root=root, domains=['D1'],
        split='train', layout=layout, pipeline=pipeline, **kwargs))


def _rgb_frames(info):
    return [osp.join(info['rgb_dir'], info['rgb_tmpl'].format(i))
            for i in range(info['rgb_start_index'],
                           info['rgb_start_index'] + info['rgb_total_frames'])]


def _flow_frames(info):
    return [osp.join(d, info['flow_tmpl'].format(i))
            for d in info['flow_dirs']
            for i in range(info['flow_start_index'],
                           info['flow_start_index'] +
                           info['flow_total_frames'])]


def _write(path, data: bytes):
    with open(path, 'wb') as f:
        f.write(data)


def _truncate(path, keep=0.5):
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(int(size * keep))


def test_missing_rgb_frame_names_the_file(root):
    ds = _dataset(root)
    frames = _rgb_frames(ds.get_data_info(0))
    for path in frames:
        os.remove(path)
    with pytest.raises(FileNotFoundError, match=osp.dirname(frames[0])):
        ds[0]


@pytest.mark.parametrize('corruption', ['empty', 'garbage'])
def test_undecodable_jpgs_name_the_file(root, corruption):
    ds = _dataset(root)
    frames = _rgb_frames(ds.get_data_info(0)) + _flow_frames(
        ds.get_data_info(0))
    for path in frames:
        _write(path, b'' if corruption == 'empty' else b'not a jpeg' * 10)
    with pytest.raises(UnreadableSampleError, match='could not be decoded'):
        ds[0]


@pytest.mark.parametrize('modality', ['rgb', 'flow'])
@pytest.mark.parametrize('corruption', ['empty', 'truncated', 'garbage'])
def test_bad_clip_videos_name_the_file(root, modality, corruption):
    ds = _dataset(root, layout='clips')
    path = ds.get_data_info(0)[f'{modality}_videos'][0]
    if corruption == 'empty':
        _write(path, b'')
    elif corruption == 'truncated':
        _truncate(path, 0.3)
    else:
        _write(path, os.urandom(4096))
    with pytest.raises(UnreadableSampleError, match=path):
        ds[0]


@pytest.mark.parametrize('corruption', ['empty', 'truncated', 'garbage'])
def test_bad_audio_names_the_file(root, corruption):
    ds = _dataset(root)
    path = ds.get_data_info(0)['audio_path']
    if corruption == 'empty':
        _write(path, b'')
    elif corruption == 'truncated':
        # keep the header, cut the samples: the clip is no longer covered
        _truncate(path, 0.02)
    else:
        _write(path, b'RIFF' + os.urandom(2000))
    with pytest.raises(UnreadableSampleError, match=path):
        ds[0]


def test_skip_unreadable_replaces_and_counts_in_training(root):
    ds = _dataset(root, skip_unreadable=True)
    broken = _rgb_frames(ds.get_data_info(0))
    for path in broken:
        _write(path, b'')
    # mmengine refetches a random index: seed so the first draw is not the
    # broken sample again (then exactly one skip happens)
    seed = next(s for s in range(100)
                if np.random.RandomState(s).randint(0, len(ds)) != 0)
    np.random.seed(seed)
    sample = ds[0]  # another sample instead of an error
    assert sample['data_samples'].uid != ds.get_data_info(0)['uid']
    assert ds.num_skipped == 1
    ds[1]
    assert ds.num_skipped == 1
    ds.reset_skipped()
    assert ds.num_skipped == 0


def test_skip_unreadable_is_refused_for_evaluation(root):
    with pytest.raises(ValueError, match='only for training'):
        _dataset(root, skip_unreadable=True, test_mode=True)


def test_without_opt_in_a_bad_sample_stops_training(root):
    ds = _dataset(root)
    for path in _rgb_frames(ds.get_data_info(0)):
        _write(path, b'')
    with pytest.raises(UnreadableSampleError):
        ds[0]


def _pipeline(**changes):
    """The test pipeline with arguments of some steps changed:
    ``changes[type] = dict(...)``."""
    import copy
    steps = copy.deepcopy(PIPELINE)
    for step in steps:
        step.update(changes.get(step['type'], {}))
    return steps


def _shorten_audio(info, keep_until: float):
    import soundfile as sf
    path = info['audio_path']
    wav, sr = sf.read(path, dtype='float32')
    sf.write(path, wav[:int(keep_until * sr)], sr)
    return path


def test_audio_shorter_than_the_window_is_an_error_by_default(root):
    ds = _dataset(root)
    info = ds.get_data_info(0)
    start, stop = info['audio_start'], info['audio_stop']
    # the file (one per video) ends in the middle of the clip's window
    end = (start + stop) / 2
    path = _shorten_audio(info, end)
    with pytest.raises(UnreadableSampleError,
                       match=f'{path} has .* shorter than the clip'):
        ds[0]
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    short = [int(i['audio_path'] == path and i['audio_stop'] > end + 0.1)
             for i in infos]
    assert short[0] == 1
    # (a window that starts after the end is empty: an error, padded or
    # not)
    some_audio = [i for i, info in enumerate(infos)
                  if info['audio_path'] != path or info['audio_start'] < end]
    # skip_unreadable counts it like any unreadable sample
    skipping = _dataset(root, skip_unreadable=True)
    np.random.seed(next(
        s for s in range(100)
        if not short[np.random.RandomState(s).randint(0, len(ds))]))
    skipping[0]
    assert skipping.num_skipped == 1
    # padding only when asked, and counted
    padding = _dataset(root, pipeline=_pipeline(
        LoadAudioSpectrogram=dict(pad_short_audio=True)))
    for i in some_audio:
        assert padding[i]['inputs']['audio'].shape[-1] > 0
    flags = padding.adjusted_samples()['audio_padded'].tolist()
    assert [flags[i] for i in some_audio] == [short[i] for i in some_audio]


def test_looped_clips_and_grey_frames_are_counted(root):
    import cv2
    ds = _dataset(root, pipeline=_pipeline())
    grey = _rgb_frames(ds.get_data_info(1))
    for path in grey:
        cv2.imwrite(path, cv2.imread(path, cv2.IMREAD_GRAYSCALE))
    for i in range(len(ds)):
        ds[i]
    flags = ds.adjusted_samples()
    assert flags['grey_to_rgb'].tolist() == [0, 1, 0, 0]
    assert flags['looped'].sum() == 0
    # 8 frames 50 apart need 400 frames; the clips have 90
    looping = _dataset(root, pipeline=_pipeline(
        SampleModalityFrames=dict(frame_interval=50)))
    sample = looping[0]
    assert sample['inputs']['rgb'].shape == ds[0]['inputs']['rgb'].shape
    assert looping.adjusted_samples()['looped'].tolist() == [1, 0, 0, 0]


# ------------------------------------------- what the loader let through
def _split_pkl(root, name='D1_train.pkl'):
    return osp.join(root, 'MM-SADA_Domain_Adaptation_Splits', name)


def _checker_problems(root, **kwargs):
    from mbcd_mmaction.datasets.preparation import (check_dataset_cfg,
                                                    epic_config)
    report = check_dataset_cfg(epic_config(root, domains=('D1', ), **kwargs),
                               progress=False, quick=True)
    return [str(p) for p in report['problems']]


@pytest.mark.parametrize('value', [np.nan, np.inf])
def test_nan_or_inf_audio_names_the_file(root, value):
    import soundfile as sf
    ds = _dataset(root)
    info = ds.get_data_info(0)
    path = info['audio_path']
    wav, sr = sf.read(path, dtype='float32')
    # one sample inside the clip's window
    wav[int((info['audio_start'] + info['audio_stop']) / 2 * sr)] = value
    sf.write(path, wav, sr, subtype='FLOAT')
    word = 'nan' if np.isnan(value) else 'inf'
    with pytest.raises(UnreadableSampleError,
                       match=f'{path} holds {word} at sample'):
        ds[0]
    problems = [p for p in _checker_problems(root) if path in p]
    assert len(problems) == 1 and problems[0].startswith(
        f'UNREADABLE {path}: holds {word} at sample'), problems


def _rewrite_split(root, change):
    path = _split_pkl(root)
    frame = pd.read_pickle(path)
    frame = change(frame)
    frame.to_pickle(path)
    return path, frame


@pytest.mark.parametrize('case', ['float_label', 'repeated_uid',
                                  'video_id_leaves_root'])
def test_bad_split_rows_name_file_and_row(root, case):
    if case == 'float_label':
        def change(f):
            f['verb_class'] = f['verb_class'].astype('float64')
            f.loc[1, 'verb_class'] = 4.7
            return f
        expected = r"row 2 \(uid \d+\) has verb_class=4.7, expected an " \
            'integer'
    elif case == 'repeated_uid':
        def change(f):
            return pd.concat([f, f.iloc[[0]]], ignore_index=True)
        expected = r'uid \d+ appears in rows \[1, 5\]'
    else:
        def change(f):
            f.loc[2, 'video_id'] = '../../etc/passwd'
            return f
        expected = r"uid \d+: video_id='../../etc/passwd' is not a plain name"
    path, _ = _rewrite_split(root, change)
    with pytest.raises(ValueError, match=f'{path}: {expected}'):
        _dataset(root)
    problems = _checker_problems(root)
    assert len(problems) == 1 and problems[0].startswith('SPLIT'), problems
    assert re.search(f'{path}: {expected}', problems[0]), problems


def test_repeated_domains_and_modalities_are_refused(root):
    with pytest.raises(ValueError, match=r"lists \['D1'\] more than once"):
        DATASETS.build(dict(type='EpicKitchensDataset', data_root=root,
                            domains=['D1', 'D1']))
    with pytest.raises(ValueError, match=r"\['rgb'\] repeated"):
        _dataset(root, modalities=['rgb', 'rgb'])
    problems = _checker_problems(root, modalities=('rgb', 'rgb'))
    assert len(problems) == 1 and "['rgb'] repeated" in problems[0]
    # the top-level option (--cfg-options modalities=[rgb,rgb])
    from mbcd_mmaction.datasets import apply_top_level
    with pytest.raises(ValueError, match=r"\['rgb'\] named more than once"):
        apply_top_level(Config(dict(modalities=['rgb', 'rgb'])))


def test_zero_learning_rate_is_refused_by_training_and_the_checker(tmp_path):
    from mbcd_mmaction.apis import setup_cfg, train
    from mbcd_mmaction.datasets.preparation import check_dataset_cfg
    for lr in ('0', '-0.1', 'nan'):
        cfg = setup_cfg(['configs/mbcd/mbcd_epic_demo.py', '--work-dir',
                         str(tmp_path / 'w'), '--cfg-options',
                         f'optim_wrapper.optimizer.lr={lr}'])
        with pytest.raises(ValueError, match=r'optim_wrapper\.optimizer\.lr='
                           '.* must be a finite number > 0'):
            train(cfg)
        assert not osp.exists(tmp_path / 'w')
    report = check_dataset_cfg(cfg, progress=False, quick=True)
    assert [p.kind for p in report['problems']][0] == 'config'
    assert 'optim_wrapper.optimizer.lr=nan' in str(report['problems'][0])


def _generic(tmp_path, rows, suffix='.jsonl'):
    import json
    ann = tmp_path / f'ann{suffix}'
    ann.write_text('\n'.join(json.dumps(r) for r in rows))
    return str(ann)


def test_generic_format_refuses_float_labels_repeated_uids_outside_paths(
        tmp_path):
    root = tmp_path / 'data'
    root.mkdir()
    good = dict(domain='a', split='train', label=1, rgb='a/v1.mp4')
    build = dict(type='MultiModalDGDataset', data_root=str(root),
                 domains=['a'], modalities=['rgb'])
    cases = [
        ([good, dict(good, label=4.7)], r'row 2: label 4.7 is neither an'),
        ([dict(good, uid='x'), dict(good, uid='x')],
         r"rows 1 and 2: uid 'x' repeats"),
        ([good, dict(good, rgb='../../etc/passwd')],
         r"row 2: rgb='../../etc/passwd' leaves data_root"),
        ([good, dict(good, rgb='/etc/passwd')],
         r"row 2: rgb='/etc/passwd' leaves data_root"),
    ]
    for rows, expected in cases:
        ann = _generic(tmp_path, rows)
        with pytest.raises(ValueError, match=f'{ann} {expected}'):
            DATASETS.build(dict(build, ann_file=ann))
    # what stays inside data_root is read
    ann = _generic(tmp_path, [good, dict(good, rgb=str(root / 'b.mp4'),
                                         label=2.0)])
    ds = DATASETS.build(dict(build, ann_file=ann))
    assert [ds.get_data_info(i)['label'] for i in range(2)] == [1, 2]


def test_hac_refuses_repeated_videos_and_names_that_leave_the_root(tmp_path):
    splits = tmp_path / 'HAC_Splits'
    splits.mkdir()
    build = dict(type='HACDataset', data_root=str(tmp_path),
                 domains=['human'], split='all')
    (splits / 'HAC_test_only_human.csv').write_text('c.mp4,0\n')
    for rows, expected in [
            ('a.mp4,0\nb.mp4,1\na.mp4,2\n', r"video 'a.mp4' is listed again"),
            ('a.mp4,0\n../../../etc/x.mp4,1\n',
             r"video '../../../etc/x.mp4': its file=.* leaves data_root")]:
        (splits / 'HAC_train_only_human.csv').write_text(rows)
        with pytest.raises(ValueError, match=expected):
            DATASETS.build(build)
    (splits / 'HAC_train_only_human.csv').write_text('c.mp4,1\n')
    with pytest.raises(ValueError, match=r"'c.mp4' is listed again \(also "
                       r'in .*HAC_train_only_human.csv\)'):
        DATASETS.build(build)
