"""HAC dataset, protocols on HAC and EPIC, the per-domain metric and the
generic annotation format, on generated data (about 15 s on 2 cores)."""
import csv
import json
import os.path as osp

import numpy as np
import pytest
import torch

import mbcd_mmaction.registration  # noqa: F401  (registers every component)
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmaction.registry import DATASETS, METRICS, TRANSFORMS
from mbcd_mmaction.datasets import HAC_DOMAINS, apply_protocol
from mbcd_mmaction.datasets.synthetic import generate_hac
from mbcd_mmaction.datasets.transforms import audio_span

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
HAC_DEMO = osp.join(REPO, 'configs/_base_/datasets/hac_demo.py')
EPIC_DEMO = osp.join(REPO, 'configs/_base_/datasets/epic_kitchens_demo.py')
N_TRAIN, N_TEST = 4, 3
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@pytest.fixture(scope='module', autouse=True)
def _scope():
    init_default_scope('mmaction')


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp('hac') / 'hac_demo'
    generate_hac(str(path), clips_per_split={'train': N_TRAIN,
                                             'test': N_TEST},
                 clip_frames=24, seed=3)
    return str(path)


def csv_rows(root, split, domain):
    with open(osp.join(root, 'HAC_Splits',
                       f'HAC_{split}_only_{domain}.csv')) as f:
        return [(domain, r[0], int(r[1])) for r in csv.reader(f)]


def hac_cfg(root, **keys):
    cfg = Config.fromfile(HAC_DEMO)
    for k, v in keys.items():
        cfg[k] = v
    apply_protocol(cfg)
    for key in LOADERS:
        cfg[key].dataset.data_root = root
    return cfg


def samples(ds):
    return sorted((i['domain'], i['video_id'], i['label'])
                  for i in (ds.get_data_info(j) for j in range(len(ds))))


def expected(root, domains, splits):
    return sorted(r for d in domains for s in splits
                  for r in csv_rows(root, s, d))


# ------------------------------------------------------------ protocols
@pytest.mark.parametrize('target', HAC_DOMAINS)
def test_multi_source_target_is_whole_domain(root, target):
    cfg = hac_cfg(root, target_domain=target)
    sources = [d for d in HAC_DOMAINS if d != target]
    train, val, test = (DATASETS.build(cfg[k].dataset) for k in LOADERS)
    assert samples(train) == expected(root, sources, ['train'])
    assert samples(val) == expected(root, sources, ['test'])
    assert samples(test) == expected(root, [target], ['train', 'test'])
    assert len(test) == N_TRAIN + N_TEST
    for ds in (train, val, test):
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            assert info['domain_id'] == HAC_DOMAINS.index(info['domain'])


@pytest.mark.parametrize('source', HAC_DOMAINS)
def test_single_source_two_targets(root, source):
    cfg = hac_cfg(root, protocol='single_source', source_domain=source,
                  target_domain='all')
    targets = [d for d in HAC_DOMAINS if d != source]
    train, val, test = (DATASETS.build(cfg[k].dataset) for k in LOADERS)
    assert samples(train) == expected(root, [source], ['train'])
    assert samples(val) == expected(root, [source], ['test'])
    assert samples(test) == expected(root, targets, ['train', 'test'])
    assert {i['domain'] for i in map(test.get_data_info,
                                     range(len(test)))} == set(targets)


def test_in_domain_hac(root):
    cfg = hac_cfg(root, protocol='in_domain', target_domain='cartoon')
    train, val, test = (DATASETS.build(cfg[k].dataset) for k in LOADERS)
    assert samples(train) == expected(root, ['human', 'animal'], ['train'])
    assert samples(test) == samples(val) == expected(
        root, ['human', 'animal'], ['test'])
    cfg = hac_cfg(root, protocol='in_domain', target_domain='cartoon',
                  domain='animal')
    assert samples(DATASETS.build(cfg.test_dataloader.dataset)) == \
        expected(root, ['animal'], ['test'])


@pytest.mark.parametrize('source', ['D1', 'D2', 'D3'])
def test_epic_single_source_and_in_domain_domains(source):
    cfg = Config.fromfile(EPIC_DEMO)
    cfg.protocol, cfg.source_domain, cfg.target_domain = \
        'single_source', source, 'all'
    apply_protocol(cfg)
    others = [d for d in ('D1', 'D2', 'D3') if d != source]
    assert (cfg.train_dataloader.dataset.domains,
            cfg.train_dataloader.dataset.split) == ([source], 'train')
    assert (cfg.val_dataloader.dataset.domains,
            cfg.val_dataloader.dataset.split) == ([source], 'test')
    # EPIC targets: their test split only.
    assert (cfg.test_dataloader.dataset.domains,
            cfg.test_dataloader.dataset.split) == (others, 'test')
    cfg = Config.fromfile(EPIC_DEMO)
    cfg.protocol, cfg.target_domain = 'in_domain', source
    apply_protocol(cfg)
    for key, split in zip(LOADERS, ('train', 'test', 'test')):
        assert (cfg[key].dataset.domains, cfg[key].dataset.split) == \
            (others, split)


def test_protocol_errors():
    for keys, err, match in (
            (dict(protocol='single_source'), KeyError, 'source_domain'),
            (dict(protocol='single_source', source_domain='human'),
             ValueError, 'human'),
            (dict(protocol='in_domain', domain='D7'), ValueError, 'D7')):
        cfg = Config.fromfile(EPIC_DEMO)
        for k, v in keys.items():
            cfg[k] = v
        with pytest.raises(err, match=match):
            apply_protocol(cfg)
    cfg = Config.fromfile(HAC_DEMO)
    cfg.target_domain = 'D1'  # an EPIC domain in a HAC config
    with pytest.raises(ValueError, match='human'):
        apply_protocol(cfg)


# --------------------------------------------------------- loading
def test_hac_sample_shapes_and_paths(root):
    cfg = hac_cfg(root, target_domain='human')
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    info = ds.get_data_info(0)
    stem = info['video_id'][:-4]
    assert info['rgb_videos'] == (osp.join(root, 'human', 'videos',
                                           stem + '.mp4'), )
    assert info['flow_videos'] == tuple(
        osp.join(root, 'human', 'flow', f'{stem}_flow_{a}.mp4')
        for a in 'xy')
    assert info['audio_path'] == osp.join(root, 'human', 'audio',
                                          stem + '.wav')
    packed = ds[0]
    shapes = {k: tuple(v.shape) for k, v in packed['inputs'].items()}
    assert shapes == {'rgb': (3, 8, 32, 32), 'flow': (2, 4, 32, 32),
                      'audio': (1, 257, 98)}
    assert packed['data_samples'].metainfo['domain'] == 'human'


@pytest.mark.parametrize('mods,source', [(('rgb', 'audio'), 'rgb'),
                                         (('flow', 'audio'), 'flow')])
def test_audio_window_is_sampled_frames_span_over_24(root, mods, source):
    cfg = hac_cfg(root, target_domain='animal', modalities=mods)
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    steps = cfg.test_dataloader.dataset.pipeline[:4]
    pipeline = [TRANSFORMS.build(s) for s in steps]
    for i in range(len(ds)):
        results = ds.get_data_info(i)
        for t in pipeline:
            results = t(results)
        inds = results[f'{source}_frame_inds']
        assert audio_span(results) == pytest.approx(
            (inds.min() / 24.0, inds.max() / 24.0))
    # explicit timestamps win; audio alone: the whole file
    assert audio_span(dict(audio_start=1.0, audio_stop=2.0,
                           rgb_frame_inds=np.arange(4))) == (1.0, 2.0)
    assert audio_span(dict(modalities=('audio', ))) == (0.0, None)


def test_hac_loads_the_real_audio_span(root):
    # A video's tone is audible in its window (generator fidelity 0.8).
    cfg = hac_cfg(root, target_domain='human', modalities=('rgb', 'audio'))
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    info = ds.get_data_info(0)
    import soundfile as sf
    wav, sr = sf.read(info['audio_path'])
    assert sr == 16000
    assert abs(len(wav) / sr - len(__import__('decord').VideoReader(
        info['rgb_videos'][0])) / 24) < 0.05


# ------------------------------------------------------------- metric
def _sample(label, domain, correct, n_classes=7):
    fused = torch.zeros(n_classes)
    fused[label if correct else (label + 1) % n_classes] = 1
    rgb = torch.zeros(n_classes)
    rgb[label] = 1
    return dict(pred_score=dict(fused=fused, rgb=rgb),
                gt_label=torch.tensor([label]), domain=domain)


def test_domain_acc_metric_reports_each_target(root):
    cfg = hac_cfg(root, protocol='single_source', source_domain='human',
                  target_domain='all')
    test = DATASETS.build(cfg.test_dataloader.dataset)
    metric = METRICS.build(dict(type='DomainAccMetric'))
    batch = []
    for i in range(len(test)):
        info = test.get_data_info(i)
        # all right on animal, wrong on cartoon except the first one
        correct = info['domain'] == 'animal' or info['video_id'].endswith(
            'train_0000.mp4')
        batch.append(_sample(info['label'], info['domain'], correct))
    metric.process(None, batch)
    out = metric.evaluate(len(batch))
    n = N_TRAIN + N_TEST
    assert out['acc/animal/fused_top1'] == pytest.approx(1.0)
    assert out['acc/cartoon/fused_top1'] == pytest.approx(1 / n)
    assert out['acc/fused_top1'] == pytest.approx((n + 1) / (2 * n))
    assert out['acc/domain_mean/fused_top1'] == pytest.approx(
        (1 + 1 / n) / 2)
    assert out['acc/animal/rgb_top1'] == out['acc/cartoon/rgb_top1'] == 1.0
    assert out['acc/animal/num_samples'] == n
    json.dumps(out)  # target_results.json must be able to hold it
    with pytest.raises(KeyError, match='domain'):
        bad = METRICS.build(dict(type='DomainAccMetric'))
        s = _sample(0, 'x', True)
        del s['domain']
        bad.process(None, [s])


# ----------------------------------------------------- generic format
def test_generic_format_csv_and_jsonl(root, tmp_path):
    rows = []
    for domain in ('human', 'cartoon'):
        for split in ('train', 'test'):
            for _, name, label in csv_rows(root, split, domain):
                stem = name[:-4]
                rows.append(dict(
                    domain=f'my_{domain}', split=split, label=label,
                    rgb=f'{domain}/videos/{name}',
                    flow_x=f'{domain}/flow/{stem}_flow_x.mp4',
                    flow_y=f'{domain}/flow/{stem}_flow_y.mp4',
                    audio=f'{domain}/audio/{stem}.wav', start='', stop=''))
    rows[0].update(start='0.25', stop='0.75')
    ann_csv = tmp_path / 'ann.csv'
    with open(ann_csv, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ann_jsonl = tmp_path / 'ann.jsonl'
    ann_jsonl.write_text('\n'.join(json.dumps(r) for r in rows))
    cfg = Config.fromfile(osp.join(REPO,
                                   'configs/mbcd/mbcd_custom_example.py'))
    cfg.all_domains = ['my_human', 'my_cartoon']
    cfg.target_domain = 'my_cartoon'
    demo = Config.fromfile(HAC_DEMO)  # small clips
    for ann in (ann_csv, ann_jsonl):
        c = Config(cfg.to_dict())
        apply_protocol(c)
        built = {}
        for key in LOADERS:
            c[key].dataset.pipeline = demo[key].dataset.pipeline
            c[key].dataset.ann_file = str(ann)
            c[key].dataset.data_root = root
            c[key].dataset.classes = None
            built[key] = DATASETS.build(c[key].dataset)
        train, test = built['train_dataloader'], built['test_dataloader']
        assert len(train) == N_TRAIN and len(built['val_dataloader']) == \
            N_TEST
        assert len(test) == N_TRAIN + N_TEST  # the whole target domain
        info = train.get_data_info(0)
        assert info['domain_id'] == 0 and info['domain'] == 'my_human'
        assert info['rgb_time_span'] == (0.25, 0.75)
        assert info['audio_start'] == 0.25
        packed = train[0]
        assert tuple(packed['inputs']['rgb'].shape) == (3, 8, 32, 32)
        assert tuple(packed['inputs']['audio'].shape) == (1, 257, 98)
    # frames sampled inside the segment
    t = TRANSFORMS.build(dict(type='SampleModalityFrames', modality='rgb',
                              clip_len=4, frame_interval=1, test_mode=True))
    res = t(dict(train.get_data_info(0)))
    assert 6 <= res['rgb_frame_inds'].min() and \
        res['rgb_frame_inds'].max() < 18
    with pytest.raises(ValueError, match='nope'):
        DATASETS.build(dict(type='MultiModalDGDataset', ann_file=str(ann_csv),
                            data_root=root, domains=['nope']))
