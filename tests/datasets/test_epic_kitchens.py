"""EPIC-Kitchens dataset, transforms, synthetic generator and protocols.

All data is generated into a temporary directory (both layouts, a few clips
per domain); the whole module runs in well under a minute on 2 cores.
"""
import copy
import math
import os.path as osp

import mmcv
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from scipy import signal

import mbcd_mmaction.registration  # noqa: F401  (registers every component)
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmaction.registry import DATASETS, TRANSFORMS
from mbcd_mmaction.datasets import ALL_DOMAINS, apply_protocol
from mbcd_mmaction.datasets.epic_kitchens import SPLIT_COLUMNS
from mbcd_mmaction.datasets.synthetic import (generate_epic_kitchens,
                                              tone_hz)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CFG = osp.join(REPO, 'configs/_base_/datasets/epic_kitchens_demo.py')
VAF_CFG = osp.join(REPO, 'configs/_base_/datasets/epic_kitchens_vaf.py')
N_TRAIN, N_TEST = 4, 2
CLIP_FRAMES = 30


@pytest.fixture(scope='module', autouse=True)
def _scope():
    # Datasets build their pipelines from the default scope's registry, as
    # under a Runner with default_scope='mmaction'.
    init_default_scope('mmaction')


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp('epic') / 'epic_demo'
    generate_epic_kitchens(str(path), layout='both',
                           clips_per_split={'train': N_TRAIN,
                                            'test': N_TEST},
                           clip_frames=CLIP_FRAMES, seed=1)
    return str(path)


def demo_cfg(root, target='D1', modalities=None):
    cfg = Config.fromfile(DEMO_CFG)
    cfg.target_domain = target
    if modalities is not None:
        cfg.modalities = modalities
    apply_protocol(cfg)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
    return cfg


def split_frame(root, domain, split):
    return pd.read_pickle(osp.join(root, 'MM-SADA_Domain_Adaptation_Splits',
                                   f'{domain}_{split}.pkl'))


# --------------------------------------------------------------- dataset
def test_build_from_config_counts_labels_domains(root):
    cfg = demo_cfg(root, target='D1')
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    test = DATASETS.build(cfg.test_dataloader.dataset)
    assert (train.domains, train.split) == (('D2', 'D3'), 'train')
    assert (val.domains, val.split) == (('D2', 'D3'), 'test')
    assert (test.domains, test.split) == (('D1', ), 'test')
    assert len(train) == 2 * N_TRAIN and len(val) == 2 * N_TEST
    assert len(test) == N_TEST
    infos = [train.get_data_info(i) for i in range(len(train))]
    for domain in ('D2', 'D3'):
        rows = split_frame(root, domain, 'train')
        mine = [i for i in infos if i['domain'] == domain]
        assert len(mine) == N_TRAIN
        assert {i['domain_id'] for i in mine} == {ALL_DOMAINS.index(domain)}
        assert [i['label'] for i in mine] == rows.verb_class.tolist()
        assert [i['uid'] for i in mine] == rows.uid.tolist()
    sample = test[0]
    meta = sample['data_samples'].metainfo
    assert meta['domain'] == 'D1' and meta['domain_id'] == 0
    assert int(sample['data_samples'].gt_label) == \
        split_frame(root, 'D1', 'test').verb_class.iloc[0]


@pytest.mark.parametrize('layout', ['frames', 'clips'])
def test_both_layouts_give_documented_shapes(root, layout):
    cfg = demo_cfg(root)
    for key in ('train_dataloader', 'test_dataloader'):
        ds_cfg = copy.deepcopy(cfg[key].dataset)
        ds_cfg.layout = layout
        inputs = DATASETS.build(ds_cfg)[1]['inputs']
        assert set(inputs) == {'rgb', 'flow', 'audio'}
        assert tuple(inputs['rgb'].shape) == (3, 8, 32, 32)
        assert tuple(inputs['flow'].shape) == (2, 4, 32, 32)
        assert tuple(inputs['audio'].shape) == (1, 257, 98)
        assert all(str(v.dtype) == 'torch.float32' for v in inputs.values())


def test_paper_config_shapes_and_10s_audio(root):
    cfg = Config.fromfile(VAF_CFG)
    cfg.target_domain = 'D2'
    apply_protocol(cfg)
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = root
    inputs = DATASETS.build(ds_cfg)[0]['inputs']
    assert tuple(inputs['rgb'].shape) == (3, 32, 224, 224)
    assert tuple(inputs['flow'].shape) == (2, 8, 224, 224)
    assert tuple(inputs['audio'].shape) == (1, 257, 1004)


def test_modalities_override_syncs_dataset_and_pack(root):
    cfg = demo_cfg(root, modalities=('rgb', 'audio'))
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    info = ds.get_data_info(0)
    assert 'flow_dirs' not in info
    assert set(ds[0]['inputs']) == {'rgb', 'audio'}


def test_flow_indices_half_rate(root):
    cfg = demo_cfg(root)
    ds = DATASETS.build(cfg.val_dataloader.dataset)
    rows = pd.concat([split_frame(root, d, 'test') for d in ('D2', 'D3')])
    parities = set()
    for info, row in zip((ds.get_data_info(i) for i in range(len(ds))),
                         rows.itertuples()):
        assert info['flow_start_index'] == math.ceil(row.start_frame / 2)
        assert info['flow_total_frames'] == \
            (row.stop_frame - row.start_frame) // 2
        assert info['rgb_start_index'] == row.start_frame
        assert info['rgb_total_frames'] == row.stop_frame - row.start_frame + 1
        parities.add(row.start_frame % 2)
    assert parities == {0, 1}  # ceil matters for some clips
    info = ds.get_data_info(1)
    sample = TRANSFORMS.build(dict(type='SampleModalityFrames',
                                   modality='flow', clip_len=4,
                                   frame_interval=2, test_mode=True))
    results = sample(dict(info))
    total = info['flow_total_frames']
    offset = (total - 7) // 2  # mmaction's centre: max_offset // 2
    expected = info['flow_start_index'] + offset + np.arange(4) * 2
    np.testing.assert_array_equal(results['flow_frame_inds'], expected)
    loaded = TRANSFORMS.build(dict(type='LoadModalityFrames',
                                   modality='flow'))(results)['flow']
    assert loaded.shape == (4, 36, 64, 2) and loaded.dtype == np.uint8
    u_file = osp.join(info['flow_dirs'][0],
                      'frame_{:010d}.jpg'.format(expected[2]))
    v_file = osp.join(info['flow_dirs'][1],
                      'frame_{:010d}.jpg'.format(expected[2]))
    np.testing.assert_array_equal(loaded[2, ..., 0],
                                  mmcv.imread(u_file, flag='grayscale'))
    np.testing.assert_array_equal(loaded[2, ..., 1],
                                  mmcv.imread(v_file, flag='grayscale'))


def test_short_clip_loops_like_sampleframes(root):
    ds = DATASETS.build(demo_cfg(root).test_dataloader.dataset)
    info = ds.get_data_info(0)
    results = TRANSFORMS.build(dict(
        type='SampleModalityFrames', modality='rgb', clip_len=32,
        frame_interval=2, test_mode=True))(dict(info))
    inds = results['rgb_frame_inds'] - info['rgb_start_index']
    assert inds.min() >= 0 and inds.max() < info['rgb_total_frames']
    np.testing.assert_array_equal(inds, np.mod(np.arange(32) * 2, 30))


# ----------------------------------------------------------------- audio
def _hand_spectrogram(wav, n):
    reps = int(np.ceil(n / len(wav)))
    wav = np.clip(np.tile(wav, reps)[:n], -1, 1)
    _, _, spec = signal.spectrogram(wav, 16000, nperseg=512, noverlap=353)
    spec = np.log(spec + 1e-7)
    return (spec - spec.mean()) / (spec.std() + 1e-9)


def test_audio_spectrogram_matches_hand_computation(tmp_path):
    sr = 16000
    t = np.arange(3 * sr) / sr
    wav = 0.5 * np.sin(2 * np.pi * 1000 * t)
    path = str(tmp_path / 'video.wav')
    sf.write(path, wav, sr, subtype='FLOAT')
    results = dict(audio_path=path, audio_start=0.5, audio_stop=2.0)
    out = TRANSFORMS.build(dict(type='LoadAudioSpectrogram',
                                test_mode=True))(dict(results))['audio']
    assert out.shape == (257, 1004) and out.dtype == np.float32
    expected = _hand_spectrogram(wav[8000:32000], 160000)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)
    assert np.argmax(out.mean(axis=1)) == round(1000 / (sr / 512))


def test_audio_augmentation_only_in_train(root):
    cfg = demo_cfg(root)
    info = DATASETS.build(cfg.train_dataloader.dataset).get_data_info(0)
    test_t = TRANSFORMS.build(dict(type='LoadAudioSpectrogram',
                                   clip_seconds=1.0, test_mode=True))
    train_t = TRANSFORMS.build(dict(type='LoadAudioSpectrogram',
                                    clip_seconds=1.0))
    a, b = test_t(dict(info))['audio'], test_t(dict(info))['audio']
    np.testing.assert_array_equal(a, b)
    np.random.seed(0)
    c = train_t(dict(info))['audio']
    diff = c - a
    zero_rows = np.where(np.all(c == 0, axis=1))[0]
    assert len(zero_rows) == 9 and np.all(np.diff(zero_rows) == 1)
    assert zero_rows[0] < 256 - 9
    rest = np.delete(diff, zero_rows, axis=0)
    assert 0 < np.abs(rest).max() <= 0.05 + 1e-6


def test_rgb_augmentation_only_in_train(root):
    cfg = demo_cfg(root)
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val_cfg = copy.deepcopy(cfg.val_dataloader.dataset)
    val = DATASETS.build(val_cfg)
    np.random.seed(0)
    v1 = val[0]['inputs']['rgb']
    np.random.seed(1)
    v2 = val[0]['inputs']['rgb']
    assert (v1 == v2).all()
    outs = []
    for seed in range(4):
        np.random.seed(seed)
        outs.append(train[0]['inputs']['rgb'])
    assert any((outs[0] != o).any() for o in outs[1:])


# --------------------------------------------------- joint crop and flip
def _left_bright_results(flow_scale=2):
    """RGB 2 x 20 x 40 (left half 255, right 0); flow at 1/flow_scale
    resolution: u left 200 (right 128), v left 100 (right 128)."""
    rgb = np.zeros((2, 20, 40, 3), np.uint8)
    rgb[:, :, :20] = 255
    h, w = 20 // flow_scale, 40 // flow_scale
    flow = np.full((2, h, w, 2), 128, np.uint8)
    flow[:, :, :w // 2, 0] = 200
    flow[:, :, :w // 2, 1] = 100
    return dict(rgb=rgb, flow=flow, modalities=('rgb', 'flow'))


def test_flip_flips_rgb_and_flow_and_negates_x_flow_only():
    norm = TRANSFORMS.build(dict(type='MultiModalNormalize'))
    flip = TRANSFORMS.build(dict(type='MultiModalFlip', flip_ratio=1.0))
    out = flip(norm(_left_bright_results()))
    assert out['flip'] is True
    rgb, flow = out['rgb'], out['flow']
    assert (rgb[:, :, 20:] > 2).all() and (rgb[:, :, :20] < -1.5).all()
    w = flow.shape[2]
    np.testing.assert_allclose(flow[:, :, w // 2:, 0], -72 / 128)
    np.testing.assert_allclose(flow[:, :, :w // 2, 0], 0)
    np.testing.assert_allclose(flow[:, :, w // 2:, 1], -28 / 128)
    np.testing.assert_allclose(flow[:, :, :w // 2, 1], 0)
    # flip_ratio 0 leaves everything in place.
    same = TRANSFORMS.build(dict(type='MultiModalFlip', flip_ratio=0.0))(
        norm(_left_bright_results()))
    assert same['flip'] is False
    np.testing.assert_allclose(same['flow'][:, :, :w // 2, 0], 72 / 128)


def test_flip_decision_shared_and_requires_normalised_flow():
    norm = TRANSFORMS.build(dict(type='MultiModalNormalize'))
    flip = TRANSFORMS.build(dict(type='MultiModalFlip', flip_ratio=0.5))
    seen = set()
    for seed in range(12):
        np.random.seed(seed)
        out = flip(norm(_left_bright_results()))
        rgb_flipped = out['rgb'][0, 0, -1, 0] > 0
        flow_flipped = out['flow'][0, 0, -1, 0] < 0
        assert rgb_flipped == flow_flipped == out['flip']
        seen.add(out['flip'])
    assert seen == {True, False}
    with pytest.raises(TypeError, match='MultiModalNormalize'):
        TRANSFORMS.build(dict(type='MultiModalFlip', flip_ratio=1.0))(
            _left_bright_results())


def test_random_resized_crop_same_relative_box():
    # Both modalities encode the relative x position; after a joint crop the
    # columns must still agree although flow has half the resolution.
    h, w = 40, 80
    x = np.linspace(0, 1, w)
    rgb = np.broadcast_to((x * 255)[None, None, :, None],
                          (2, h, w, 3)).astype(np.uint8)
    xf = np.linspace(0, 1, w // 2)
    flow = np.broadcast_to((xf * 255)[None, None, :, None],
                           (2, h // 2, w // 2, 2)).astype(np.uint8)
    crop = TRANSFORMS.build(dict(type='MultiModalRandomResizedCrop', size=16,
                                 area_range=(0.1, 0.5)))
    widths = set()
    for seed in range(5):
        np.random.seed(seed)
        import random
        random.seed(seed)
        out = crop(dict(rgb=rgb.copy(), flow=flow.copy()))
        assert out['rgb'].shape == (2, 16, 16, 3)
        assert out['flow'].shape == (2, 16, 16, 2)
        rgb_x = out['rgb'][0, 8, :, 0].astype(float)
        flow_x = out['flow'][0, 8, :, 0].astype(float)
        assert np.abs(rgb_x - flow_x).max() < 12  # of 255: same box
        widths.add(int(rgb_x[-1] - rgb_x[0]))
    assert len(widths) > 1  # the box is random
    centre = TRANSFORMS.build(dict(type='MultiModalCenterCrop', crop_size=20))
    out = centre(dict(rgb=rgb.copy(), flow=flow.copy()))
    assert out['rgb'].shape == (2, 20, 20, 3)
    assert out['flow'].shape == (2, 20, 20, 2)
    assert np.abs(out['rgb'][0, 5, :, 0].astype(float) -
                  out['flow'][0, 5, :, 0]).max() < 12
    assert abs(float(out['rgb'][0, 5, 10, 0]) - 127.5) < 8


# ---------------------------------------------------------------- errors
def test_missing_frame_file_error(root):
    ds = DATASETS.build(demo_cfg(root).test_dataloader.dataset)
    info = ds.get_data_info(0)
    info['rgb_start_index'] = 10**7
    pipeline = [
        TRANSFORMS.build(dict(type='SampleModalityFrames', modality='rgb',
                              clip_len=2, test_mode=True)),
        TRANSFORMS.build(dict(type='LoadModalityFrames', modality='rgb'))
    ]
    with pytest.raises(FileNotFoundError,
                       match=r'frame_00100000\d\d\.jpg.*uid'):
        for t in pipeline:
            info = t(info)


def _dataset(split_dir, domains=('D1', ), **kw):
    return DATASETS.build(dict(type='EpicKitchensDataset', data_root='x',
                               split_dir=str(split_dir), domains=domains,
                               pipeline=[], **kw))


def test_split_file_errors(root, tmp_path):
    with pytest.raises(FileNotFoundError, match='D1_train.pkl'):
        _dataset(tmp_path)
    rows = split_frame(root, 'D1', 'train')
    bad = rows.copy()
    bad.loc[bad.index[1], 'verb_class'] = 8
    bad.to_pickle(tmp_path / 'D1_train.pkl')
    with pytest.raises(ValueError, match=r'verb_class=8.*0\.\.7'):
        _dataset(tmp_path)
    rows.iloc[:0].to_pickle(tmp_path / 'D1_train.pkl')
    with pytest.raises(ValueError, match='empty'):
        _dataset(tmp_path)
    rows.drop(columns=['stop_timestamp']).to_pickle(tmp_path / 'D1_train.pkl')
    with pytest.raises(KeyError, match='stop_timestamp'):
        _dataset(tmp_path)


def test_argument_errors(root):
    split_dir = osp.join(root, 'MM-SADA_Domain_Adaptation_Splits')
    with pytest.raises(ValueError, match='apply_protocol'):
        _dataset(split_dir, domains=None)
    with pytest.raises(ValueError, match='D4'):
        _dataset(split_dir, domains=['D4'])
    with pytest.raises(ValueError, match='depth'):
        _dataset(split_dir, modalities=('rgb', 'depth'))
    with pytest.raises(ValueError, match='layout'):
        _dataset(split_dir, layout='tar')


def test_missing_clip_mp4_error(root, tmp_path):
    ds = _dataset(osp.join(root, 'MM-SADA_Domain_Adaptation_Splits'),
                  layout='clips', clips_root=str(tmp_path))
    info = ds.get_data_info(0)
    with pytest.raises(FileNotFoundError, match=r'D1_P08_\d+_\d+_\d+_\d\.mp4'):
        TRANSFORMS.build(dict(type='SampleModalityFrames', modality='rgb',
                              clip_len=2))(info)


# -------------------------------------------------------------- protocol
@pytest.mark.parametrize('target', ALL_DOMAINS)
def test_apply_protocol_multi_source(target):
    cfg = Config.fromfile(DEMO_CFG)
    cfg.target_domain = target
    sources = [d for d in ALL_DOMAINS if d != target]
    apply_protocol(cfg)
    assert cfg.train_dataloader.dataset.domains == sources
    assert cfg.train_dataloader.dataset.split == 'train'
    assert cfg.val_dataloader.dataset.domains == sources
    assert cfg.val_dataloader.dataset.split == 'test'
    assert cfg.test_dataloader.dataset.domains == [target]
    assert cfg.test_dataloader.dataset.split == 'test'


def test_apply_protocol_wrappers_explicit_domains_and_errors():
    cfg = Config.fromfile(DEMO_CFG)
    cfg.target_domain = 'D3'
    inner = cfg.train_dataloader.dataset
    cfg.train_dataloader.dataset = dict(type='RepeatDataset', times=2,
                                        dataset=inner)
    cfg.val_dataloader.dataset.domains = ['D1']  # explicit: kept
    cfg.modalities = ('flow', 'audio')
    apply_protocol(cfg)
    assert cfg.train_dataloader.dataset.dataset.domains == ['D1', 'D2']
    assert cfg.val_dataloader.dataset.domains == ['D1']
    assert cfg.test_dataloader.dataset.domains == ['D3']
    pack = cfg.test_dataloader.dataset.pipeline[-1]
    assert pack.type == 'PackActionInputs'
    assert tuple(pack.collect_keys) == ('flow', 'audio')
    assert tuple(cfg.train_dataloader.dataset.dataset.modalities) == \
        ('flow', 'audio')
    for key, value, err in (('target_domain', 'D9', 'D9'),
                            ('protocol', 'leave_two_out', 'leave_two_out')):
        bad = Config.fromfile(DEMO_CFG)
        bad.target_domain = 'D1'
        bad[key] = value
        with pytest.raises(ValueError, match=err):
            apply_protocol(bad)
    with pytest.raises(KeyError, match='target_domain'):
        apply_protocol(Config.fromfile(DEMO_CFG))


# ------------------------------------------------------------- generator
def test_generator_layout_types_and_atomicity(root):
    for domain in ALL_DOMAINS:
        for split, n in (('train', N_TRAIN), ('test', N_TEST)):
            rows = split_frame(root, domain, split)
            assert list(rows.columns) == list(SPLIT_COLUMNS)
            assert len(rows) == n
            assert rows.start_frame.dtype == np.int64
            assert isinstance(rows.start_timestamp.iloc[0], str)
            assert rows.verb_class.between(0, 7).all()
            for row in rows.itertuples():
                h, m, s = row.start_timestamp.split(':')
                assert abs(float(s) + 60 * int(m) - row.start_frame / 60) \
                    < 0.01
                assert osp.isfile(osp.join(
                    root, 'rgb', split, domain, row.video_id,
                    f'frame_{row.stop_frame:010d}.jpg'))
                wav = osp.join(root, 'rgb', split, domain,
                               row.video_id + '.wav')
                info = sf.info(wav)
                assert info.samplerate == 16000
                assert info.frames / 16000 >= row.stop_frame / 60
    with pytest.raises(FileExistsError):
        generate_epic_kitchens(root)
    assert not [p for p in __import__('os').listdir(osp.dirname(root))
                if '.tmp-' in p]


def test_generated_audio_carries_the_class(root):
    # The class tone is the loudest band in most clips (fidelity 0.8).
    cfg = demo_cfg(root)
    test_t = TRANSFORMS.build(dict(type='LoadAudioSpectrogram',
                                   clip_seconds=1.0, test_mode=True))
    hits = total = 0
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = DATASETS.build(cfg[key].dataset)
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            spec = test_t(dict(info))['audio']
            peak_hz = np.argmax(spec[8:].mean(axis=1)) * 31.25 + 8 * 31.25
            hits += abs(peak_hz - tone_hz(info['label'])) < 40
            total += 1
    assert hits / total > 0.6


def test_apply_protocol_fills_model_source_domains():
    from mmengine.config import Config
    cfg = Config(dict(
        target_domain='D2',
        model=dict(type='X', branch=dict(source_domains=None),
                   others=[dict(source_domains=['D9'])])))
    apply_protocol(cfg)
    assert cfg.model.branch.source_domains == ['D1', 'D3']
    assert cfg.model.others[0].source_domains == ['D9']  # explicit kept
