"""The generator's controlled scenarios (``--scenario imbalance|balanced``)
have the properties docs/experiments.md states, checked on the written
files."""
import json
import math
import os.path as osp

import cv2
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from mbcd_mmaction.datasets.epic_kitchens import RGB_TMPL
from mbcd_mmaction.datasets.synthetic import (SCENARIO_CLIPS_FILE,
                                              SCENARIO_DEFAULTS,
                                              _ClipRenderer, main,
                                              make_scenario, motion_angle,
                                              tone_hz)

SMALL = dict(clips_per_split={'train': 8, 'test': 8}, frame_size=(32, 18),
             clip_frames=20, gap_frames=5)


def _generate(root, name, **options):
    from mbcd_mmaction.datasets.synthetic import generate_epic_kitchens
    return generate_epic_kitchens(
        str(root), scenario=make_scenario(name, **options),
        target_test_clips=20, **SMALL)


def _clip_tone_power(root, row, fps=60):
    """Power of the clip's audio at the class tones, relative to the
    largest: per class ``c``, |FFT| at ``tone_hz(c)`` in the clip."""
    wav, rate = sf.read(osp.join(root, 'rgb', row.split, row.domain,
                                 row.video_id + '.wav'))
    a = int(row.start_frame / fps * rate)
    b = int((row.stop_frame + 1) / fps * rate)
    seg = wav[a:b] * np.hanning(b - a)
    spec = np.abs(np.fft.rfft(seg))
    freqs = np.fft.rfftfreq(b - a, 1 / rate)
    return np.array([spec[np.argmin(abs(freqs - tone_hz(c)))]
                     for c in range(8)]) / (b - a)


def _rows(root):
    clips = pd.read_csv(osp.join(root, SCENARIO_CLIPS_FILE))
    frames = []
    for name in ('D1_train', 'D1_test', 'D2_train', 'D2_test', 'D3_train',
                 'D3_test'):
        f = pd.read_pickle(osp.join(root, 'MM-SADA_Domain_Adaptation_Splits',
                                    name + '.pkl'))
        f['domain'], f['split'] = name.split('_')
        frames.append(f)
    return pd.concat(frames).merge(clips, on=['uid', 'domain', 'split'])


def test_imbalance_target_fraction_has_no_fast_cue(tmp_path):
    root = tmp_path / 'imb'
    meta = _generate(root, 'imbalance')
    assert meta['counts']['D1_test'] == 20
    assert meta['scenario'] == dict(name='imbalance',
                                    **SCENARIO_DEFAULTS['imbalance'])
    rows = _rows(str(root))
    assert (rows.label == rows.verb_class).all()
    target = rows[(rows.domain == 'D1') & (rows.split == 'test')]
    # exactly round(0.5 * 20) target clips without the fast (audio) cue ...
    assert (target.audio == -1).sum() == 10
    # ... and only there: the sources and the other modalities keep theirs
    assert (rows[rows.domain != 'D1'][['rgb', 'flow', 'audio']] >= 0).all(
        axis=None)
    assert (target[['rgb', 'flow']] >= 0).all(axis=None)
    # the written audio has no class tone in those clips, one elsewhere
    for row in target.itertuples():
        power = _clip_tone_power(str(root), row)
        if row.audio == -1:
            assert power.max() < 0.01, (row.uid, power)
        else:
            assert power.argmax() == row.audio and power.max() > 0.05
    # the nuisance varies on the sources' held-out (validation) clips only
    val = rows[(rows.domain != 'D1') & (rows.split == 'test')]
    assert val.nuisance.between(1.0, 2.0).all() and val.nuisance.std() > 0
    assert (rows[rows.split == 'train'].nuisance == 1.0).all()
    assert (target.nuisance == 1.0).all()


def test_balanced_keeps_every_cue_on_the_target(tmp_path):
    root = tmp_path / 'bal'
    meta = _generate(root, 'balanced')
    assert meta['scenario']['fast_strength'] == \
        meta['scenario']['slow_strength']
    rows = _rows(str(root))
    assert (rows[['rgb', 'flow', 'audio']] >= 0).all(axis=None)
    target = rows[(rows.domain == 'D1') & (rows.split == 'test')]
    for row in target.itertuples():
        assert _clip_tone_power(str(root), row).argmax() == row.audio


def test_fast_rgb_is_an_empty_frame_on_the_uninformative_clips(tmp_path):
    root = tmp_path / 'rgb'
    _generate(root, 'imbalance', fast_modality='rgb',
              target_uninformative=0.25)
    rows = _rows(str(root))
    target = rows[(rows.domain == 'D1') & (rows.split == 'test')]
    assert (target.rgb == -1).sum() == 5 and (rows.audio >= 0).all()
    for row in target.itertuples():
        frame = cv2.imread(osp.join(str(root), 'rgb', 'test', 'D1',
                                    row.video_id,
                                    RGB_TMPL.format(row.start_frame)))
        # the blob is saturated colour; the D1 background is not
        hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
        blob = (hsv[..., 1] > 150).mean()
        assert (blob < 0.01) == (row.rgb == -1), (row.uid, blob)


def test_every_class_stays_distinct_under_a_horizontal_flip():
    """A flip maps class c's motion onto class c's mirrored motion (the
    generator draws both), and no two classes share a vertical motion."""
    n = 8
    for c in range(n):
        for mirrored in (False, True):
            a = motion_angle(c, mirrored, n)
            b = motion_angle(c, not mirrored, n)
            assert math.cos(a) == pytest.approx(-math.cos(b), abs=1e-9)
            assert math.sin(a) == pytest.approx(math.sin(b), abs=1e-9)
    vertical = [round(math.sin(motion_angle(c, False, n)), 6)
                for c in range(n)]
    assert len(set(vertical)) == n
    # on rendered flow: the blob's mean v (kept by a flip) orders the classes
    style = dict(bg=(70, 70, 110), texture='hstripes', period=6, amp=0,
                 noise=0.0, flow_bias=(0.0, 0.0), flow_noise=0.0)
    renderer = _ClipRenderer((64, 36), 90, np.random.default_rng(0))
    mean_v = []
    for c in range(n):
        flow = renderer.flow(style, c, 10, strength=0.4).astype(float) - 128
        flipped = flow[:, :, ::-1] * [-1, 1]  # MultiModalFlip negates u
        moving = np.abs(flow).sum(-1) > 1
        assert flipped[..., 1][moving[:, :, ::-1]].mean() == pytest.approx(
            flow[..., 1][moving].mean())
        mean_v.append(flow[..., 1][moving].mean())
    assert np.all(np.diff(mean_v) > 0)


@pytest.mark.parametrize('options,message', [
    (dict(fast_modality='depth'), 'fast_modality'),
    (dict(target_uninformative=1.5), 'target_uninformative'),
    (dict(slow_strength=0), 'slow_strength'),
    (dict(val_nuisance=0.5), 'val_nuisance'),
    (dict(target_domain='D4'), 'target_domain'),
    (dict(cue=1), 'scenario options'),
])
def test_bad_scenario_options(options, message):
    with pytest.raises(ValueError, match=message):
        make_scenario('imbalance', **options)


def test_balanced_refuses_an_uninformative_target():
    with pytest.raises(ValueError, match='balanced.*target_uninformative'):
        make_scenario('balanced', target_uninformative=0.5)


def test_cli_scenario_options_need_a_scenario(tmp_path):
    with pytest.raises(ValueError, match='--fast-modality needs --scenario'):
        main(['--root', str(tmp_path / 'x'), '--fast-modality', 'rgb'])


def test_cli_writes_the_scenario(tmp_path):
    root = tmp_path / 'cli'
    main(['--root', str(root), '--scenario', 'imbalance', '--train-clips',
          '8', '--test-clips', '8', '--target-test-clips', '16', '--width',
          '32', '--height', '18', '--clip-frames', '20',
          '--target-uninformative', '0.25', '--fast-modality', 'flow'])
    meta = json.load(open(root / 'synthetic_meta.json'))
    assert meta['counts']['D1_test'] == 16
    assert meta['scenario']['fast_modality'] == 'flow'
    clips = pd.read_csv(root / SCENARIO_CLIPS_FILE)
    target = clips[(clips.domain == 'D1') & (clips.split == 'test')]
    assert (target.flow == -1).sum() == 4
