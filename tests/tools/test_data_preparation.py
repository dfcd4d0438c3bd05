"""Data preparation on a real clip with sound, the dataset checker, and the
experiment listing.

tests/data/megamind_2s.mp4: the first 2 s of OpenCV's sample
``Megamind.avi`` (Debian package opencv-doc, examples/data), re-encoded
with PyAV to MPEG-4 at 24 fps + AAC 16 kHz mono (120 KB), so the real
audio track and real motion go through the tools.
"""
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLIP = osp.join(REPO, 'tests', 'data', 'megamind_2s.mp4')


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
    from mbcd_mmaction.datasets.preparation import prepare_hac_layout
    tmp = tmp_path_factory.mktemp('prep')
    src = tmp / 'src'
    rows = ['path,label,domain,split']
    for i, (domain, split, label) in enumerate([
            ('cartoon', 'train', 'watching tv'), ('cartoon', 'test', '2'),
            ('human', 'train', 'running'), ('human', 'test', 'eating')]):
        os.makedirs(src, exist_ok=True)
        shutil.copy(CLIP, src / f'clip{i}.mp4')
        rows.append(f'src/clip{i}.mp4,{label},{domain},{split}')
    (tmp / 'list.csv').write_text('\n'.join(rows) + '\n')
    out = tmp / 'hac'
    report = prepare_hac_layout(str(tmp / 'list.csv'), str(out),
                                short_side=48, flow_algorithm='farneback',
                                progress=False)
    return str(out), report


def test_prepared_layout_audio_flow_and_splits(prepared):
    out, report = prepared
    assert report['failed'] == {}
    assert report['counts'] == {'cartoon_test': 1, 'cartoon_train': 1,
                                'human_test': 1, 'human_train': 1}
    with open(osp.join(out, 'HAC_Splits', 'HAC_train_only_cartoon.csv')) as f:
        assert f.read().split() == ['clip0.mp4,1']
    import decord
    video = decord.VideoReader(osp.join(out, 'cartoon', 'videos',
                                        'clip0.mp4'))
    assert len(video) == 47 and video.get_avg_fps() == pytest.approx(24)
    assert min(video[0].shape[:2]) == 48
    fx = decord.VideoReader(osp.join(out, 'cartoon', 'flow',
                                     'clip0_flow_x.mp4'))
    assert len(fx) == len(video)
    # the real clip moves: some flow away from the 128 "no motion" level
    levels = fx.get_batch(list(range(len(fx)))).asnumpy()[..., 0]
    assert np.abs(levels.astype(float) - 128).max() > 10
    wav, sr = sf.read(osp.join(out, 'cartoon', 'audio', 'clip0.wav'))
    assert sr == 16000 and wav.ndim == 1
    assert abs(len(wav) / sr - 2.0) < 0.1
    assert wav.std() > 1e-3  # the real soundtrack, not silence


def test_prepared_files_load_through_hac_dataset(prepared):
    out, _ = prepared
    import mbcd_mmaction.registration  # noqa: F401  (registers every component)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmaction.registry import DATASETS
    from mbcd_mmaction.datasets import apply_protocol
    init_default_scope('mmaction')
    cfg = Config.fromfile(osp.join(REPO,
                                   'configs/_base_/datasets/hac_demo.py'))
    cfg.all_domains = ['human', 'cartoon']  # the prepared root has two
    cfg.protocol, cfg.source_domain, cfg.target_domain = \
        'single_source', 'human', 'cartoon'
    apply_protocol(cfg)
    cfg.test_dataloader.dataset.data_root = out
    ds = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(ds) == 2
    inputs = ds[0]['inputs']
    assert {k: tuple(v.shape) for k, v in inputs.items()} == {
        'rgb': (3, 8, 32, 32), 'flow': (2, 4, 32, 32),
        'audio': (1, 257, 98)}
    assert all(np.isfinite(v.numpy()).all() for v in inputs.values())


def test_flow_quantisation_and_tvl1():
    from mbcd_mmaction.datasets.preparation import media
    q = media.quantize_flow(np.array([-50.0, -20.0, 0.0, 20.0, 50.0]))
    assert q.tolist() == [0, 0, 128, 255, 255]
    assert media.dequantize_flow(np.uint8([128]))[0] == pytest.approx(
        0, abs=0.1)
    if 'tvl1' not in media.flow_algorithms():
        pytest.skip('cv2.optflow (opencv-contrib) not installed')
    # a square moving 2 px right: TV-L1 sees positive x-flow on it
    a = np.zeros((32, 32, 3), np.uint8)
    a[10:20, 10:20] = 255
    b = np.roll(a, 2, axis=1)
    flow = media.compute_flow(np.stack([a, b]), 'tvl1')
    x = media.dequantize_flow(flow[0, 10:20, 9:21, 0])
    assert x.mean() > 0.5


def _run(args):
    return subprocess.run([sys.executable] + args, cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_checker_catches_deleted_and_truncated_files(prepared, tmp_path):
    out, _ = prepared
    root = tmp_path / 'hac'
    shutil.copytree(out, root)
    ok = _run(['tools/data/check_dataset.py', '--hac', str(root),
               '--no-progress'])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert 'OK' in ok.stdout
    os.remove(root / 'cartoon' / 'flow' / 'clip1_flow_y.mp4')
    video = root / 'human' / 'videos' / 'clip2.mp4'
    video.write_bytes(video.read_bytes()[:4000])
    wav = root / 'human' / 'audio' / 'clip3.wav'
    wav.write_bytes(wav.read_bytes()[:20000])
    bad = _run(['tools/data/check_dataset.py', '--hac', str(root),
                '--no-progress'])
    assert bad.returncode == 1
    lines = bad.stdout.splitlines()
    assert any(l.startswith('MISSING') and 'clip1_flow_y.mp4' in l
               for l in lines), bad.stdout
    assert any(l.startswith('UNREADABLE') and 'clip2.mp4' in l
               for l in lines), bad.stdout
    assert any('clip3.wav' in l and l.startswith(('TOO_SHORT', 'UNREADABLE'))
               for l in lines), bad.stdout
    assert '3 problem(s)' in bad.stdout


def test_prepare_reports_video_without_sound(tmp_path):
    from mbcd_mmaction.datasets.preparation import prepare_hac_layout
    from mbcd_mmaction.datasets.preparation.media import write_mp4
    silent = tmp_path / 'src' / 'human' / 'running' / 'mute.mp4'
    write_mp4(str(silent), np.zeros((5, 16, 16, 3), np.uint8), 24)
    report = prepare_hac_layout(str(tmp_path / 'src'), str(tmp_path / 'o'),
                                flow_algorithm='farneback', progress=False)
    assert list(report['failed']) == [str(silent)]
    assert 'no audio' in report['failed'][str(silent)]
