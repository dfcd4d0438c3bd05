"""A small synthetic dataset in EPIC-Kitchens' on-disk layout.

The real data cannot be downloaded here; this writes a learnable stand-in
with the exact files :class:`~mbcd_mmaction.datasets.EpicKitchensDataset`
reads (see :mod:`mbcd_mmaction.datasets.epic_kitchens` for both layouts):
MM-SADA split pickles with all columns and EPIC's types, 60 fps RGB jpgs,
30 fps flow u/v jpgs, one 16 kHz wav per video with every clip at its
timestamps, and/or one mp4 per clip (``layout='clips'``).

The task (8 classes, 3 domains):

* class ``c`` sets a moving blob's hue and its direction of motion (RGB),
  the direction of the blob's flow (flow), and a tone of
  ``400 * 1.25 ** c`` Hz during the clip (audio). Directions run from
  straight up (class 0) to straight down (class 7), and every rendering is
  mirrored left-right with probability 0.5: the class is a property a
  horizontal flip keeps, so flip augmentation (which negates the x-flow)
  does not change the label, as for real verbs;
* each modality independently shows the true class with probability
  ``fidelity`` (0.8) and a uniformly random class otherwise, so fusing the
  modalities beats any single one;
* each domain shifts the background colour, brightness and texture, the
  pixel noise, a global flow bias (camera pan) and flow noise, and the audio
  background (a hum at a domain frequency plus noise), so there is a domain
  shift but the class cues are shared.

:func:`generate_hac` writes the same task in HAC's layout (7 classes,
domains human / animal / cartoon, one mp4 + flow x/y mp4s + wav per video).

CLI::

    python -m mbcd_mmaction.datasets.synthetic --root data/epic_demo
    python -m mbcd_mmaction.datasets.synthetic --dataset hac --root data/hac_demo

The dataset is written into a temporary sibling directory and renamed into
place at the end, so an interrupted run never leaves a half-written root.
"""
import argparse
import json
import math
import os
import os.path as osp
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
import pandas as pd

from .epic_kitchens import (ALL_DOMAINS, CLASSES, DOMAIN_PARTICIPANTS,
                            RGB_TMPL, clip_mp4_name, flow_span)
from .hac import HAC_CLASSES, HAC_DOMAINS

# Per-domain appearance / sound. Values are chosen to make the shift obvious
# (a model can tell the domains apart) without touching the class cues.
DOMAIN_STYLES = {
    'D1': dict(bg=(70, 70, 110), texture='hstripes', period=6, amp=25,
               noise=5.0, flow_bias=(0.0, 0.0), flow_noise=4.0,
               hum_hz=100.0, hum_amp=0.05, audio_noise=0.01),
    'D2': dict(bg=(150, 120, 80), texture='checker', period=8, amp=35,
               noise=10.0, flow_bias=(10.0, 0.0), flow_noise=8.0,
               hum_hz=60.0, hum_amp=0.12, audio_noise=0.03),
    'D3': dict(bg=(40, 95, 50), texture='vstripes', period=4, amp=15,
               noise=16.0, flow_bias=(0.0, -10.0), flow_noise=12.0,
               hum_hz=150.0, hum_amp=0.08, audio_noise=0.06),
}
SPLIT_VIDEO_OFFSET = {'train': 1, 'test': 11}  # P08_01.. / P08_11..

SCENARIO_MODALITIES = ('rgb', 'flow', 'audio')


@dataclass(frozen=True)
class Scenario:
    """A controlled scenario of :func:`generate_epic_kitchens`
    (``scenario='imbalance'`` or ``'balanced'``; :func:`make_scenario`
    fills the defaults).

    Every modality shows its class cue at a ``strength`` (RGB: the blob's
    area relative to the full blob, in the class hue on every domain; flow: its flow magnitude, 1.0 = 60
    levels; audio: the tone's amplitude, 1.0 = ``tone_amp``), and the true
    class with probability ``fidelity`` (a random class otherwise, each
    modality independently, on every domain: no modality alone is enough
    and the source validation does not saturate). The target domain's
    clips of the fast modality, a fraction ``target_uninformative`` of
    them (exactly ``round(fraction * clips)`` per split), carry no cue at
    all (RGB: no blob; flow: no moving blob; audio: no tone). The sources'
    held-out clips (their ``test`` split: the validation) are rendered
    with varied nuisance: pixel, flow and audio noise times a per-clip
    factor drawn from ``U(1, val_nuisance)`` and the background colour
    shifted by up to ``25 * (factor - 1)`` levels per channel.

    Attributes:
        name (str): ``'imbalance'`` or ``'balanced'``.
        fast_modality (str): The fast cue: ``'audio'`` (default), ``'rgb'``
            or ``'flow'``.
        fast_strength (float): Its cue strength (imbalance 1.0,
            balanced 0.6).
        slow_strength (float): The other modalities' cue strength
            (imbalance 0.4, balanced 0.6).
        target_uninformative (float): Fraction of the target's clips whose
            fast modality carries no cue (imbalance 0.5; balanced 0.0).
        fidelity (float): Probability that a modality shows the true class
            (0.85).
        val_nuisance (float): Largest nuisance factor of the sources'
            held-out clips (2.0; 1.0 = as in training).
        target_domain (str): The domain the scenario's shift is on ('D1',
            the demo configs' target).
    """
    name: str
    fast_modality: str
    fast_strength: float
    slow_strength: float
    target_uninformative: float
    fidelity: float
    val_nuisance: float
    target_domain: str

    def strength(self, modality: str) -> float:
        return (self.fast_strength if modality == self.fast_modality
                else self.slow_strength)


SCENARIO_DEFAULTS = {
    'imbalance': dict(fast_modality='audio', fast_strength=1.0,
                      slow_strength=0.4, target_uninformative=0.5,
                      fidelity=0.85, val_nuisance=2.0, target_domain='D1'),
    'balanced': dict(fast_modality='audio', fast_strength=0.6,
                     slow_strength=0.6, target_uninformative=0.0,
                     fidelity=0.85, val_nuisance=2.0, target_domain='D1'),
}
#: clips per domain and split of a scenario: the target's test split is
#: ``target_test_clips`` (> 100, so one clip is under 1 point).
SCENARIO_CLIPS = dict(train=64, test=48, target_test=120)
SCENARIO_CLIPS_FILE = 'scenario_clips.csv'


def make_scenario(name: str, **options) -> Scenario:
    """:class:`Scenario` ``name`` with ``options`` (None = default)
    overriding :data:`SCENARIO_DEFAULTS`; bad values raise ``ValueError``
    naming the option."""
    if name not in SCENARIO_DEFAULTS:
        raise ValueError(f'scenario={name!r}: expected one of '
                         f'{sorted(SCENARIO_DEFAULTS)}.')
    unknown = sorted(set(options) - set(SCENARIO_DEFAULTS[name]))
    if unknown:
        raise ValueError(f'scenario options {unknown}: expected some of '
                         f'{sorted(SCENARIO_DEFAULTS[name])}.')
    values = dict(SCENARIO_DEFAULTS[name])
    values.update({k: v for k, v in options.items() if v is not None})
    if values['fast_modality'] not in SCENARIO_MODALITIES:
        raise ValueError(f"fast_modality={values['fast_modality']!r}: "
                         f'expected one of {SCENARIO_MODALITIES}.')
    if values['target_domain'] not in ALL_DOMAINS:
        raise ValueError(f"target_domain={values['target_domain']!r}: "
                         f'expected one of {ALL_DOMAINS}.')
    for key in ('target_uninformative', 'fidelity'):
        if not 0.0 <= values[key] <= 1.0:
            raise ValueError(f'{key}={values[key]!r}: expected a value in '
                             '[0, 1].')
    for key in ('fast_strength', 'slow_strength'):
        if not values[key] > 0:
            raise ValueError(f'{key}={values[key]!r}: expected > 0.')
    if values['val_nuisance'] < 1.0:
        raise ValueError(f"val_nuisance={values['val_nuisance']!r}: "
                         'expected >= 1 (1 = the training nuisance).')
    if name == 'balanced' and values['target_uninformative'] != 0.0:
        raise ValueError('the balanced scenario keeps every cue valid on the '
                         'target: target_uninformative must be 0, got '
                         f"{values['target_uninformative']!r}.")
    return Scenario(name=name, **values)


def _varied_style(style: dict, rng: np.random.Generator,
                  max_factor: float) -> dict:
    """``style`` with its noise scaled by a factor from ``U(1,
    max_factor)`` and its background shifted (a held-out clip's varied
    nuisance)."""
    factor = float(rng.uniform(1.0, max_factor))
    shift = rng.uniform(-25, 25, 3) * (factor - 1.0)
    return dict(style, noise=style['noise'] * factor,
                flow_noise=style['flow_noise'] * factor,
                audio_noise=style['audio_noise'] * factor,
                bg=tuple(np.clip(np.add(style['bg'], shift), 0, 255)))


def tone_hz(label: int) -> float:
    """Audio tone of class ``label``."""
    return 400.0 * 1.25 ** label


def _shown_classes(label: int, fidelity: float, n_classes: int,
                   rng: np.random.Generator):
    """The classes a clip's RGB, flow and audio show: each the true
    ``label`` with probability ``fidelity``, else a random class."""
    return [label if rng.random() < fidelity else
            int(rng.integers(n_classes)) for _ in range(3)]


def _domain_background(style: dict, t: np.ndarray,
                       rng: np.random.Generator) -> np.ndarray:
    """A domain's audio background at times ``t``: its hum plus noise."""
    wav = style['hum_amp'] * np.sin(2 * np.pi * style['hum_hz'] * t)
    return wav + rng.normal(0, style['audio_noise'], len(t))


def format_timestamp(seconds: float) -> str:
    """Seconds -> EPIC ``'hh:mm:ss.ff'``."""
    hundredths = int(round(seconds * 100))
    hours, rest = divmod(hundredths, 360000)
    minutes, rest = divmod(rest, 6000)
    return f'{hours:02d}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}'


def _background(style: dict, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    p = style['period']
    if style['texture'] == 'hstripes':
        tex = (yy // p) % 2
    elif style['texture'] == 'vstripes':
        tex = (xx // p) % 2
    else:
        tex = ((yy // p) + (xx // p)) % 2
    bg = np.asarray(style['bg'], np.float32)[None, None]
    return bg + style['amp'] * (tex[..., None].astype(np.float32) - 0.5)


def _hue_rgb(label: int, n_classes: int = len(CLASSES)) -> np.ndarray:
    hsv = np.uint8([[[int(180 * label / n_classes), 230, 240]]])
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def motion_angle(label: int, mirrored: bool,
                 n_classes: int = len(CLASSES)) -> float:
    """Direction of class ``label``'s motion, in radians (image axes: x
    right, y down): from -pi/2 (up, class 0) through 0 (right) to pi/2
    (down, last class); ``mirrored`` reflects it left-right."""
    angle = -math.pi / 2 + math.pi * label / (n_classes - 1)
    return math.pi - angle if mirrored else angle


def _blob_masks(n: int, h: int, w: int, angle: float, start_xy,
                step: float, stride: int = 1,
                area: float = 1.0) -> np.ndarray:
    """Soft disc masks (n, h, w) of a blob moving in direction ``angle``,
    ``step`` px per RGB frame, sampled every ``stride`` frames, ``area``
    times the full blob's area."""
    t = np.arange(n, dtype=np.float32) * stride
    cx = start_xy[0] + math.cos(angle) * step * t
    cy = start_xy[1] + math.sin(angle) * step * t
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    radius = 0.22 * h * math.sqrt(area)
    dist = np.sqrt((xx[None] - cx[:, None, None])**2 +
                   (yy[None] - cy[:, None, None])**2)
    return np.clip(radius + 0.5 - dist, 0.0, 1.0)


class _ClipRenderer:
    """Renders the RGB frames, flow frames and audio tone of one clip."""

    def __init__(self, frame_size: Tuple[int, int], clip_frames: int,
                 rng: np.random.Generator, n_classes: int = len(CLASSES),
                 flow_stride: int = 2):
        self.n_classes = n_classes
        self.flow_stride = flow_stride
        self.w, self.h = frame_size
        self.clip_frames = clip_frames
        self.rng = rng
        # The blob crosses half the frame width over the clip.
        self.step = 0.5 * self.w / clip_frames

    def _angle(self, label: int) -> float:
        return motion_angle(label, mirrored=bool(self.rng.random() < 0.5),
                            n_classes=self.n_classes)

    def _start(self, angle: float):
        travel = self.step * self.clip_frames
        jitter = self.rng.uniform(-0.08, 0.08, 2) * (self.w, self.h)
        return (self.w / 2 - math.cos(angle) * travel / 2 + jitter[0],
                self.h / 2 - math.sin(angle) * travel / 2 + jitter[1])

    def rgb(self, style: dict, label: Optional[int],
            strength: float = 1.0) -> np.ndarray:
        """(clip_frames, h, w, 3) uint8 RGB. ``strength`` is the blob's
        area relative to the full blob (its colour stays the class hue on
        every background, so a weaker cue is smaller, not tinted by the
        domain); ``label=None`` draws no blob (the frames carry no class
        cue)."""
        bg = _background(style, self.h, self.w)[None]
        if label is None:
            frames = np.repeat(bg, self.clip_frames, axis=0)
            frames = frames + self.rng.normal(0, style['noise'], frames.shape)
            return np.clip(frames, 0, 255).astype(np.uint8)
        angle = self._angle(label)
        masks = _blob_masks(self.clip_frames, self.h, self.w, angle,
                            self._start(angle), self.step,
                            area=strength)[..., None]
        frames = bg * (1 - masks) + _hue_rgb(label, self.n_classes) * masks
        frames += self.rng.normal(0, style['noise'], frames.shape)
        return np.clip(frames, 0, 255).astype(np.uint8)

    def flow(self, style: dict, label: Optional[int], n: int,
             strength: float = 1.0) -> np.ndarray:
        """(n, h, w, 2) uint8 (u, v), one frame per ``flow_stride`` RGB
        frames (EPIC: half the RGB rate), 128 = no motion. ``strength``
        scales the blob's flow magnitude; ``label=None``: no moving blob
        (only the domain's pan and noise)."""
        if label is None:
            angle, masks = 0.0, np.zeros((n, self.h, self.w), np.float32)
        else:
            angle = self._angle(label)
            masks = _blob_masks(n, self.h, self.w, angle, self._start(angle),
                                self.step, stride=self.flow_stride)
        # encoded levels; EPIC's TV-L1 jpgs are 128-centred
        magnitude = 60.0 * strength
        bu, bv = style['flow_bias']
        u = 128 + bu + magnitude * math.cos(angle) * masks
        v = 128 + bv + magnitude * math.sin(angle) * masks
        flow = np.stack([u, v], axis=-1)
        flow += self.rng.normal(0, style['flow_noise'], flow.shape)
        return np.clip(flow, 0, 255).astype(np.uint8)


def _write_jpgs(directory: str, first_index: int, frames: np.ndarray,
                rgb: bool) -> None:
    os.makedirs(directory, exist_ok=True)
    for i, frame in enumerate(frames):
        img = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) if rgb else frame
        cv2.imwrite(osp.join(directory, RGB_TMPL.format(first_index + i)),
                    img, [cv2.IMWRITE_JPEG_QUALITY, 95])


def _write_mp4(path: str, frames: np.ndarray, fps: float) -> None:
    """frames: (T, H, W, 3) RGB or (T, H, W) grey."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (w, h))
    if not writer.isOpened():
        raise RuntimeError(f'cv2.VideoWriter cannot write {path} (mp4v).')
    for frame in frames:
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        else:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        writer.write(np.ascontiguousarray(frame))
    writer.release()


def generate_epic_kitchens(root: str,
                           layout: str = 'frames',
                           clips_per_split: Optional[Dict[str, int]] = None,
                           frame_size: Tuple[int, int] = (64, 36),
                           seed: int = 0,
                           domains: Sequence[str] = ALL_DOMAINS,
                           clip_frames: int = 90,
                           fps: int = 60,
                           gap_frames: int = 31,
                           videos_per_split: int = 2,
                           fidelity: float = 0.8,
                           sample_rate: int = 16000,
                           tone_amp: float = 0.3,
                           overwrite: bool = False,
                           scenario=None,
                           target_test_clips: Optional[int] = None) -> dict:
    """Write a synthetic EPIC-Kitchens-layout dataset to ``root``.

    Args:
        root (str): Output data root (created; must not exist unless
            ``overwrite``).
        layout (str): ``'frames'`` (jpgs + per-video wav under ``root``),
            ``'clips'`` (mp4 per clip under
            ``root/MM-SADA_Domain_Adaptation_Splits/EPIC-mp4`` and the wav
            under ``root/MM-SADA_Domain_Adaptation_Splits/rgb``) or
            ``'both'``.
        clips_per_split (dict): Clips per domain and split. Defaults to
            ``{'train': 64, 'test': 32}``.
        frame_size (tuple[int, int]): (W, H). Defaults to (64, 36).
        seed (int): Everything is a function of it.
        domains (Sequence[str]): Defaults to ('D1', 'D2', 'D3').
        clip_frames (int): RGB frames per clip (at ``fps``). Defaults to 90
            (1.5 s).
        fps (int): RGB frame rate; flow has half of it. Defaults to 60.
        gap_frames (int): Frames between clips of one video. Defaults to 31
            (odd, so clip starts alternate in parity and the flow
            ``ceil(start / 2)`` rounding is exercised).
        videos_per_split (int): Videos per domain and split. Defaults to 2.
        fidelity (float): Probability that a modality shows the true class.
        sample_rate (int): Audio rate. Defaults to 16000.
        tone_amp (float): Amplitude of the class tone.
        overwrite (bool): Replace an existing ``root``.
        scenario (str | Scenario): ``'imbalance'`` or ``'balanced'`` (the
            defaults of :func:`make_scenario`) or a :class:`Scenario`:
            per-modality cue strengths, the fast modality without cue on
            a fraction of the target's clips, varied nuisance on the
            sources' held-out clips; ``fidelity`` is then the scenario's.
            Default None: the plain demo task. A scenario also writes
            ``root/scenario_clips.csv`` (per clip: uid, domain, split,
            label, the class each modality shows, -1 for none, and the
            nuisance factor).
        target_test_clips (int): With a scenario, test clips of the target
            domain. Defaults to 120; clips_per_split defaults to
            ``{'train': 64, 'test': 48}``.

    Returns:
        dict: The generation parameters and per-(domain, split) clip counts
        (also written to ``root/synthetic_meta.json``).
    """
    import soundfile as sf
    if isinstance(scenario, str):
        scenario = make_scenario(scenario)
    if scenario is not None and not isinstance(scenario, Scenario):
        raise TypeError(f'scenario={scenario!r}: expected a name or a '
                        'Scenario.')
    if scenario is None and target_test_clips is not None:
        raise ValueError('target_test_clips needs a scenario.')
    if scenario is not None:
        fidelity = scenario.fidelity
        if clips_per_split is None:
            clips_per_split = dict(train=SCENARIO_CLIPS['train'],
                                   test=SCENARIO_CLIPS['test'])
        if target_test_clips is None:
            target_test_clips = SCENARIO_CLIPS['target_test']
        if scenario.target_domain not in domains:
            raise ValueError(f'scenario target_domain '
                             f'{scenario.target_domain!r} is not among the '
                             f'generated domains {tuple(domains)}.')
    if layout not in ('frames', 'clips', 'both'):
        raise ValueError(f"layout={layout!r}, expected 'frames', 'clips' or "
                         "'both'.")
    unknown = [d for d in domains if d not in ALL_DOMAINS]
    if unknown:
        raise ValueError(f'unknown domain(s) {unknown}; expected a subset of '
                         f'{ALL_DOMAINS}.')
    clips_per_split = dict(clips_per_split or {'train': 64, 'test': 32})
    bad = [s for s in clips_per_split if s not in ('train', 'test')]
    if bad:
        raise ValueError(f"clips_per_split keys {bad}: expected 'train' and/or"
                         " 'test'.")
    return _write_atomically(
        root, overwrite, lambda tmp: _generate_into(
            tmp, layout, clips_per_split, frame_size, seed, domains,
            clip_frames, fps, gap_frames, videos_per_split, fidelity,
            sample_rate, tone_amp, sf, scenario, target_test_clips))


def _write_atomically(root: str, overwrite: bool, generate) -> dict:
    """Run ``generate(tmp_dir) -> meta`` in a temporary sibling of ``root``
    and rename it into place (an interrupted run leaves no half root)."""
    root = osp.abspath(root)
    if osp.exists(root) and not overwrite:
        raise FileExistsError(f'{root} exists; pass overwrite=True '
                              '(--overwrite) to replace it.')
    parent = osp.dirname(root)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.tmp-', dir=parent)
    started = time.time()
    try:
        meta = generate(tmp)
        meta['seconds'] = round(time.time() - started, 2)
        with open(osp.join(tmp, 'synthetic_meta.json'), 'w') as f:
            json.dump(meta, f, indent=1)
        if osp.exists(root):
            old = tempfile.mkdtemp(prefix=f'.{osp.basename(root)}.old-',
                                   dir=parent)
            os.rename(root, osp.join(old, 'data'))
            os.rename(tmp, root)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


def _generate_into(out, layout, clips_per_split, frame_size, seed, domains,
                   clip_frames, fps, gap_frames, videos_per_split, fidelity,
                   sample_rate, tone_amp, sf, scenario=None,
                   target_test_clips=None) -> dict:
    rng = np.random.default_rng(seed)
    renderer = _ClipRenderer(frame_size, clip_frames, rng)
    split_dir = osp.join(out, 'MM-SADA_Domain_Adaptation_Splits')
    mp4_root = osp.join(split_dir, 'EPIC-mp4')
    os.makedirs(split_dir)
    write_frames = layout in ('frames', 'both')
    write_clips = layout in ('clips', 'both')
    n_classes = len(CLASSES)
    counts = {}
    scenario_rows = []
    uid = 0
    for domain in domains:
        domain_style = DOMAIN_STYLES[domain]
        participant = DOMAIN_PARTICIPANTS[domain]
        for split, n_clips in clips_per_split.items():
            is_target = (scenario is not None and
                         domain == scenario.target_domain)
            if is_target and split == 'test':
                n_clips = target_test_clips
            # Balanced labels, shuffled, dealt round-robin to the videos.
            labels = rng.permutation(np.arange(n_clips) % n_classes)
            uninformative = set()
            if is_target:
                k = int(round(scenario.target_uninformative * n_clips))
                uninformative = set(rng.permutation(n_clips)[:k].tolist())
            rows = []
            per_video = {}
            for i, label in enumerate(labels.tolist()):
                per_video.setdefault(i % videos_per_split, []).append(
                    (i, label))
            for v, video_labels in sorted(per_video.items()):
                video_id = (f'{participant}_'
                            f'{SPLIT_VIDEO_OFFSET[split] + v:02d}')
                tones = []
                for k, (i, label) in enumerate(video_labels):
                    # + v: videos start at different parities, so both
                    # roundings of ceil(start / 2) occur even in tiny sets.
                    start = gap_frames + v + k * (clip_frames + gap_frames)
                    stop = start + clip_frames - 1
                    shown = _shown_classes(label, fidelity, n_classes, rng)
                    style, factor = domain_style, 1.0
                    strength = dict.fromkeys(SCENARIO_MODALITIES, 1.0)
                    if scenario is not None:
                        strength = {m: scenario.strength(m)
                                    for m in SCENARIO_MODALITIES}
                        if i in uninformative:
                            shown[SCENARIO_MODALITIES.index(
                                scenario.fast_modality)] = None
                        if split == 'test' and not is_target:
                            style = _varied_style(domain_style, rng,
                                                  scenario.val_nuisance)
                            factor = style['noise'] / domain_style['noise']
                    c_rgb, c_flow, c_audio = shown
                    fstart, fnum = flow_span(start, stop)
                    rgb = renderer.rgb(style, c_rgb, strength['rgb'])
                    # fnum + 1 flow frames: the loader reads fnum of them, the
                    # port's clip names end at fstart + fnum.
                    flow = renderer.flow(style, c_flow, fnum + 1,
                                         strength['flow'])
                    if write_frames:
                        _write_jpgs(osp.join(out, 'rgb', split, domain,
                                             video_id), start, rgb, True)
                        fdir = osp.join(out, 'flow', split, domain, video_id)
                        _write_jpgs(osp.join(fdir, 'u'), fstart,
                                    flow[..., 0], False)
                        _write_jpgs(osp.join(fdir, 'v'), fstart,
                                    flow[..., 1], False)
                    if write_clips:
                        _write_mp4(osp.join(
                            mp4_root, 'rgb', split, domain,
                            clip_mp4_name(domain, video_id, start, stop,
                                          label)), rgb, fps)
                        for c, comp in enumerate('uv'):
                            _write_mp4(osp.join(
                                mp4_root, 'flow', split, domain,
                                clip_mp4_name(domain, video_id, fstart,
                                              fstart + fnum, label,
                                              f'_{comp}')),
                                flow[..., c], fps / 2)
                    tones.append((start / fps, (stop + 1) / fps, c_audio,
                                  strength['audio'], factor))
                    if scenario is not None:
                        scenario_rows.append(dict(
                            uid=uid, domain=domain, split=split, label=label,
                            rgb=-1 if c_rgb is None else c_rgb,
                            flow=-1 if c_flow is None else c_flow,
                            audio=-1 if c_audio is None else c_audio,
                            nuisance=round(factor, 4)))
                    rows.append(dict(
                        uid=uid, participant_id=participant,
                        video_id=video_id,
                        narration=f'{CLASSES[label]} object',
                        start_timestamp=format_timestamp(start / fps),
                        stop_timestamp=format_timestamp((stop + 1) / fps),
                        start_frame=start, stop_frame=stop,
                        verb=CLASSES[label], verb_class=label))
                    uid += 1
                # One track per video: domain hum + noise, the clips' tones
                # at their timestamps.
                length = int((tones[-1][1] + gap_frames / fps) * sample_rate)
                t = np.arange(length) / sample_rate
                wav = _domain_background(domain_style, t, rng)
                for t0, t1, c, amp, factor in tones:
                    a, b = int(t0 * sample_rate), int(t1 * sample_rate)
                    if factor > 1.0:  # the clip's noise: factor x the domain's
                        wav[a:b] += rng.normal(
                            0, domain_style['audio_noise'] *
                            math.sqrt(factor**2 - 1), b - a)
                    if c is None:
                        continue
                    wav[a:b] += amp * tone_amp * np.sin(
                        2 * np.pi * tone_hz(c) * t[a:b])
                wav = np.clip(wav, -1, 1).astype(np.float32)
                for base in ([out] if write_frames else []) + \
                        ([split_dir] if write_clips else []):
                    wav_dir = osp.join(base, 'rgb', split, domain)
                    os.makedirs(wav_dir, exist_ok=True)
                    sf.write(osp.join(wav_dir, video_id + '.wav'), wav,
                             sample_rate, subtype='PCM_16')
            frame = pd.DataFrame(rows)
            for col in ('uid', 'start_frame', 'stop_frame', 'verb_class'):
                frame[col] = frame[col].astype('int64')
            frame.to_pickle(osp.join(split_dir, f'{domain}_{split}.pkl'))
            counts[f'{domain}_{split}'] = len(rows)
    meta = dict(layout=layout, frame_size=list(frame_size), seed=seed,
                clip_frames=clip_frames, fps=fps, fidelity=fidelity,
                sample_rate=sample_rate, counts=counts)
    if scenario is not None:
        meta['scenario'] = asdict(scenario)
        pd.DataFrame(scenario_rows).to_csv(
            osp.join(out, SCENARIO_CLIPS_FILE), index=False)
    return meta


HAC_STYLES = {'human': DOMAIN_STYLES['D1'], 'animal': DOMAIN_STYLES['D2'],
              'cartoon': DOMAIN_STYLES['D3']}


def hac_video_name(domain: str, split: str, index: int) -> str:
    """File name (with ``.mp4``) of generated HAC video ``index``."""
    return f'{domain}_{split}_{index:04d}.mp4'


def generate_hac(root: str,
                 clips_per_split: Optional[Dict[str, int]] = None,
                 frame_size: Tuple[int, int] = (64, 36),
                 seed: int = 0,
                 domains: Sequence[str] = HAC_DOMAINS,
                 clip_frames: int = 36,
                 fps: int = 24,
                 fidelity: float = 0.8,
                 sample_rate: int = 16000,
                 tone_amp: float = 0.3,
                 overwrite: bool = False) -> dict:
    """Write a synthetic dataset in HAC's layout to ``root``.

    Same task as :func:`generate_epic_kitchens` with HAC's 7 classes and
    domains human / animal / cartoon (styled like D1 / D2 / D3): one mp4 per
    video at ``fps`` (24, the rate HAC is read at; ``mp4v``, decodable by
    decord), flow as two grey mp4s ``{name}_flow_x.mp4`` / ``_flow_y.mp4``
    with one flow frame per video frame (128 = no motion), one 16 kHz mono
    wav per video lasting the video (domain hum + the class tone), and the
    header-less split CSVs ``HAC_Splits/HAC_{train,test}_only_{domain}.csv``
    (``name.mp4,label``). Video lengths vary: ``clip_frames`` plus 0, 4 or
    8 frames.

    Args:
        root (str): Output root (must not exist unless ``overwrite``).
        clips_per_split (dict): Videos per domain and split. Defaults to
            ``{'train': 48, 'test': 16}``.
        frame_size (tuple[int, int]): (W, H). Defaults to (64, 36).
        seed (int): Everything is a function of it.
        domains (Sequence[str]): Subset of ('human', 'animal', 'cartoon').
        clip_frames (int): Shortest video, in frames. Defaults to 36 (1.5 s).
        fps (int): Defaults to 24.
        fidelity (float): Probability that a modality shows the true class.
        sample_rate (int): Defaults to 16000.
        tone_amp (float): Amplitude of the class tone.
        overwrite (bool): Replace an existing ``root``.

    Returns:
        dict: Parameters and per-(domain, split) counts (also in
        ``root/synthetic_meta.json``).
    """
    import soundfile as sf
    unknown = [d for d in domains if d not in HAC_DOMAINS]
    if unknown:
        raise ValueError(f'unknown domain(s) {unknown}; expected a subset of '
                         f'{HAC_DOMAINS}.')
    clips_per_split = dict(clips_per_split or {'train': 48, 'test': 16})
    bad = [k for k in clips_per_split if k not in ('train', 'test')]
    if bad:
        raise ValueError(f"clips_per_split keys {bad}: expected 'train' and/or"
                         " 'test'.")

    def generate(out: str) -> dict:
        rng = np.random.default_rng(seed)
        n_classes = len(HAC_CLASSES)
        split_dir = osp.join(out, 'HAC_Splits')
        os.makedirs(split_dir)
        counts = {}
        for domain in domains:
            style = HAC_STYLES[domain]
            for split, n_clips in clips_per_split.items():
                labels = rng.permutation(np.arange(n_clips) % n_classes)
                rows = []
                for i, label in enumerate(labels.tolist()):
                    n_frames = clip_frames + 4 * (i % 3)
                    renderer = _ClipRenderer(frame_size, n_frames, rng,
                                             n_classes=n_classes,
                                             flow_stride=1)
                    c_rgb, c_flow, c_audio = _shown_classes(
                        label, fidelity, n_classes, rng)
                    name = hac_video_name(domain, split, i)
                    stem = name[:-4]
                    _write_mp4(osp.join(out, domain, 'videos', name),
                               renderer.rgb(style, c_rgb), fps)
                    flow = renderer.flow(style, c_flow, n_frames)
                    for c, axis in enumerate('xy'):
                        _write_mp4(osp.join(out, domain, 'flow',
                                            f'{stem}_flow_{axis}.mp4'),
                                   flow[..., c], fps)
                    length = int(round(n_frames / fps * sample_rate))
                    t = np.arange(length) / sample_rate
                    wav = _domain_background(style, t, rng)
                    wav += tone_amp * np.sin(2 * np.pi * tone_hz(c_audio) * t)
                    os.makedirs(osp.join(out, domain, 'audio'),
                                exist_ok=True)
                    sf.write(osp.join(out, domain, 'audio', stem + '.wav'),
                             np.clip(wav, -1, 1).astype(np.float32),
                             sample_rate, subtype='PCM_16')
                    rows.append(f'{name},{label}\n')
                with open(osp.join(split_dir,
                                   f'HAC_{split}_only_{domain}.csv'),
                          'w') as f:
                    f.writelines(rows)
                counts[f'{domain}_{split}'] = len(rows)
        return dict(dataset='hac', frame_size=list(frame_size), seed=seed,
                    clip_frames=clip_frames, fps=fps, fidelity=fidelity,
                    sample_rate=sample_rate, counts=counts)

    return _write_atomically(root, overwrite, generate)


def scenario_root(scenario: Optional[str]) -> str:
    """Default data root: ``data/epic_demo``, or ``data/epic_<scenario>``."""
    return f'data/epic_{scenario}' if scenario else 'data/epic_demo'


def add_scenario_arguments(parser) -> None:
    """The ``--scenario`` options (this CLI and ``tools/demo.py``); each
    default is :data:`SCENARIO_DEFAULTS`' (``--fidelity`` is the CLI's
    own)."""
    g = parser.add_argument_group(
        'controlled scenarios (EPIC layout; defaults: '
        'mbcd_mmaction.datasets.synthetic.SCENARIO_DEFAULTS)')
    g.add_argument('--scenario', choices=sorted(SCENARIO_DEFAULTS),
                   help='imbalance: a fast modality that has no cue on a '
                   'fraction of the target clips, slower cues in the others; '
                   'balanced: the control, cues of equal strength valid '
                   'everywhere (default root data/epic_<scenario>)')
    g.add_argument('--fast-modality', choices=SCENARIO_MODALITIES,
                   help='the fast cue (audio)')
    g.add_argument('--fast-strength', type=float,
                   help='its cue strength (imbalance 1.0, balanced 0.6)')
    g.add_argument('--slow-strength', type=float,
                   help='the other modalities\' cue strength (imbalance '
                   '0.4, balanced 0.6)')
    g.add_argument('--target-uninformative', type=float,
                   help='fraction of target clips whose fast modality has '
                   'no cue (imbalance 0.5; balanced must be 0)')
    g.add_argument('--val-nuisance', type=float,
                   help='largest nuisance factor of the sources\' held-out '
                   '(validation) clips (2.0)')
    g.add_argument('--target-domain', choices=ALL_DOMAINS,
                   help='domain of the shift (D1)')
    g.add_argument('--target-test-clips', type=int,
                   help='test clips of the target domain (%d)'
                   % SCENARIO_CLIPS['target_test'])


def scenario_from_args(args) -> Optional[Scenario]:
    """The :class:`Scenario` of parsed :func:`add_scenario_arguments`
    (None without ``--scenario``; scenario options without it are an
    error)."""
    keys = ('fast_modality', 'fast_strength', 'slow_strength',
            'target_uninformative', 'val_nuisance', 'target_domain')
    given = {k: getattr(args, k) for k in keys
             if getattr(args, k) is not None}
    fidelity = getattr(args, 'fidelity', None)
    if args.scenario is None:
        if given:
            raise ValueError(f'--{sorted(given)[0].replace("_", "-")} needs '
                             '--scenario imbalance|balanced.')
        return None
    if fidelity is not None:
        given['fidelity'] = fidelity
    return make_scenario(args.scenario, **given)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description='Write a synthetic EPIC-Kitchens- or HAC-layout dataset.')
    parser.add_argument('--dataset', default='epic', choices=['epic', 'hac'])
    parser.add_argument('--root', default=None,
                        help='default: data/epic_demo or data/hac_demo')
    parser.add_argument('--layout', default='frames',
                        choices=['frames', 'clips', 'both'])
    parser.add_argument('--train-clips', type=int, default=None,
                        help='train clips per domain (EPIC 64, HAC 48)')
    parser.add_argument('--test-clips', type=int, default=None,
                        help='test clips per domain (EPIC 32, HAC 16)')
    parser.add_argument('--width', type=int, default=64)
    parser.add_argument('--height', type=int, default=36)
    parser.add_argument('--clip-frames', type=int, default=None,
                        help='EPIC 90 (60 fps), HAC 36 (24 fps)')
    parser.add_argument('--fidelity', type=float, default=None,
                        help='probability that a modality shows the true '
                        'class (0.8; a scenario: 0.85)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true')
    add_scenario_arguments(parser)
    args = parser.parse_args(argv)
    hac = args.dataset == 'hac'
    if hac and args.scenario:
        parser.error('--scenario is for --dataset epic only.')
    scenario = scenario_from_args(args)
    args.root = args.root or ('data/hac_demo' if hac else
                              scenario_root(args.scenario))
    if scenario is None and args.target_test_clips is not None:
        parser.error('--target-test-clips needs --scenario.')
    if scenario is not None:
        clips = {'train': args.train_clips or SCENARIO_CLIPS['train'],
                 'test': args.test_clips or SCENARIO_CLIPS['test']}
    else:
        clips = {'train': args.train_clips or (48 if hac else 64),
                 'test': args.test_clips or (16 if hac else 32)}
    common = dict(clips_per_split=clips,
                  frame_size=(args.width, args.height), seed=args.seed,
                  clip_frames=args.clip_frames or (36 if hac else 90),
                  overwrite=args.overwrite)
    if scenario is None:
        common['fidelity'] = 0.8 if args.fidelity is None else args.fidelity
    if hac:
        meta = generate_hac(args.root, **common)
    else:
        meta = generate_epic_kitchens(
            args.root, layout=args.layout, scenario=scenario,
            target_test_clips=args.target_test_clips, **common)
    print(f'wrote {args.root} in {meta["seconds"]} s: {meta["counts"]}')


if __name__ == '__main__':
    main()
