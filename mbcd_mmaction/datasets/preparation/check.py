"""Scan a dataset against its split / annotation files before training.

:func:`check_dataset_cfg` builds the dataset's sample list (EPIC-Kitchens,
HAC or the generic format; from a config, after ``apply_protocol``) and
reads every file a sample needs, without running the pipelines. By default
it reads what a training run could read, so that whatever the loader
rejects, the checker reports:

* missing: a path that does not exist;
* unreadable: a video decord cannot open or whose frames do not all decode
  (every frame is decoded; ``quick=True``: the first and last only), a jpg
  of a clip that does not decode (every frame of the clip; ``quick=True``:
  the first and last), an audio file soundfile cannot read to the end (a
  truncated wav has fewer samples than its header promises) or that holds
  a NaN or inf sample;
* too short: flow x/y videos of different lengths, a video shorter than its
  segment, an audio file that ends before the clip's audio window (EPIC
  timestamps, the generic format's ``stop``; HAC: the video's length) by
  more than the pipeline's ``LoadAudioSpectrogram(short_tolerance)``
  (unless ``pad_short_audio=True``), a video with fewer than
  ``min_frames`` frames if given.

Split and annotation files are read by the datasets themselves, so what
they refuse (a missing column, a non-integer label, a repeated uid, a path
that leaves ``data_root``, a split pickle that names a global it may not)
is a ``split`` problem; an optimizer learning rate training refuses
(:func:`~mbcd_mmaction.datasets.protocols.check_optimizer_cfg`) is a
``config`` problem.

Notices (reported, exit code 0): what the loader adjusts and counts
(:data:`mbcd_mmaction.datasets.base.ADJUSTMENTS`): clips shorter than the
span of one clip of the config's pipeline (``(clip_len - 1) x
frame_interval + 1`` frames of ``SampleModalityFrames``: the loader loops
them), greyscale RGB frames (copied into three channels), short audio with
``pad_short_audio=True`` (tiled).

Every problem is reported (not only the first); the tool exits non-zero
when there is any.
"""
import inspect
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from ..base import ADJUSTMENTS

#: Problem kinds that are notices (the loader adjusts, not rejects).
NOTICE_KINDS = tuple(ADJUSTMENTS)


@dataclass
class Problem:
    # 'missing' | 'unreadable' | 'too_short' | 'split' | 'config' | notices
    kind: str
    path: str
    detail: str
    samples: List[str] = field(default_factory=list)

    @property
    def is_notice(self) -> bool:
        return self.kind in NOTICE_KINDS

    def __str__(self) -> str:
        used = f" (used by {', '.join(self.samples[:3])}" + \
            (f' and {len(self.samples) - 3} more' if len(self.samples) > 3
             else '') + ')' if self.samples else ''
        where = '' if self.path == '-' else f' {self.path}:'
        return f'{self.kind.upper():10s}{where} {self.detail}{used}'


def _audio_defaults() -> dict:
    from ..transforms.loading import LoadAudioSpectrogram
    params = inspect.signature(LoadAudioSpectrogram).parameters
    return {k: params[k].default
            for k in ('pad_short_audio', 'short_tolerance')}


def pipeline_needs(pipeline) -> dict:
    """What a dataset's pipeline makes the loader need: ``frames``
    (modality -> frames one clip spans, ``(clip_len - 1) x frame_interval
    + 1``, from ``SampleModalityFrames``), and ``LoadAudioSpectrogram``'s
    ``pad_short_audio`` and ``short_tolerance``."""
    needs = dict(frames={}, **_audio_defaults())
    for step in pipeline or []:
        if not isinstance(step, dict):
            continue
        kind = str(step.get('type', '')).split('.')[-1]
        if kind == 'SampleModalityFrames':
            span = (int(step['clip_len']) - 1) * int(
                step.get('frame_interval', 1)) + 1
            m = step['modality']
            needs['frames'][m] = max(needs['frames'].get(m, 0), span)
        elif kind == 'LoadAudioSpectrogram':
            for key in ('pad_short_audio', 'short_tolerance'):
                if key in step:
                    needs[key] = step[key]
    return needs


class _Checker:

    def __init__(self, min_frames: Optional[int], quick: bool):
        self.min_frames = min_frames
        self.quick = quick
        self.cache: Dict[str, Optional[Problem]] = {}
        self.video_len: Dict[str, int] = {}
        self.video_seconds: Dict[str, float] = {}
        self.grey: Dict[str, bool] = {}
        self.problems: Dict[str, Problem] = {}

    def _report(self, problem: Optional[Problem], uid: str) -> None:
        if problem is None:
            return
        key = f'{problem.kind}:{problem.path}:{problem.detail}'
        stored = self.problems.setdefault(key, problem)
        if uid not in stored.samples:
            stored.samples.append(uid)

    def video(self, path: str, uid: str) -> Optional[int]:
        if path not in self.cache:
            self.cache[path] = self._video(path)
        self._report(self.cache[path], uid)
        return self.video_len.get(path)

    def _video(self, path: str) -> Optional[Problem]:
        if not osp.isfile(path):
            return Problem('missing', path, 'file not found')
        try:
            import decord
            reader = decord.VideoReader(path, num_threads=1)
            n = len(reader)
            # the loader reads any frame of the clip: decode them all
            # (in chunks, to bound memory), or the ends only if quick
            ranges = [[0, n - 1]] if self.quick else [
                list(range(i, min(i + 64, n))) for i in range(0, n, 64)]
            for inds in ranges if n > 0 else []:
                reader.get_batch(inds).asnumpy()
            fps = reader.get_avg_fps() or 0
        except Exception as e:  # decord raises its own DECORDError
            return Problem('unreadable', path,
                           f'decord cannot decode it ({type(e).__name__}: '
                           f'{str(e).splitlines()[0][:120]})')
        self.video_len[path] = n
        self.video_seconds[path] = n / fps if fps else 0.0
        if n == 0:
            return Problem('unreadable', path, 'no frames')
        if self.min_frames and n < self.min_frames:
            return Problem('too_short', path,
                           f'{n} frames < min_frames={self.min_frames}')
        return None

    def audio(self, path: str, uid: str, need_seconds: Optional[float],
              needs: dict) -> None:
        if path not in self.cache:
            self.cache[path] = self._audio(path)
        self._report(self.cache[path], uid)
        if self.cache[path] is None and need_seconds is not None:
            have = self.video_seconds.get('audio:' + path, 0.0)
            if have + needs['short_tolerance'] < need_seconds:
                kind = 'audio_padded' if needs['pad_short_audio'] \
                    else 'too_short'
                self._report(Problem(
                    kind, path,
                    f'{have:.2f} s of audio < {need_seconds:.2f} s needed'),
                    uid)

    def _audio(self, path: str) -> Optional[Problem]:
        if not osp.isfile(path):
            return Problem('missing', path, 'file not found')
        try:
            import soundfile as sf
            info = sf.info(path)
            data, _ = sf.read(path, dtype='float32', always_2d=True)
        except Exception as e:  # LibsndfileError, RuntimeError, ...
            return Problem('unreadable', path,
                           f'soundfile cannot read it ({type(e).__name__}: '
                           f'{str(e).splitlines()[0][:120]})')
        if len(data) < info.frames:
            return Problem('unreadable', path,
                           f'truncated: {len(data)} of {info.frames} samples')
        if len(data) == 0:
            return Problem('too_short', path, 'no audio samples')
        finite = np.isfinite(data)
        if not finite.all():
            i = int(np.flatnonzero(~finite.all(axis=1))[0])
            return Problem('unreadable', path,
                           f'holds {data[i][~finite[i]][0]} at sample {i} '
                           f'({i / info.samplerate:.3f}s; float audio must be '
                           'finite)')
        self.video_seconds['audio:' + path] = len(data) / info.samplerate
        return None

    def jpg(self, path: str, uid: str, modality: str) -> None:
        if path not in self.cache:
            self.cache[path] = self._jpg(path, modality)
        self._report(self.cache[path], uid)
        if self.grey.get(path):
            self._report(Problem('grey_to_rgb', path, 'greyscale RGB frame'
                                 ' (the loader copies it into 3 channels)'),
                         uid)

    def _jpg(self, path: str, modality: str) -> Optional[Problem]:
        if not osp.isfile(path):
            return Problem('missing', path, 'file not found')
        import cv2
        import numpy as np

        from ..transforms.loading import image_channels
        with open(path, 'rb') as f:
            data = f.read()
        # decoded as the loader decodes it (colour RGB, grey flow)
        flag = cv2.IMREAD_COLOR if modality == 'rgb' else \
            cv2.IMREAD_GRAYSCALE
        try:
            img = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
        except cv2.error:
            img = None
        if img is None:
            return Problem('unreadable', path,
                           'OpenCV cannot decode the image')
        self.grey[path] = modality == 'rgb' and image_channels(data) == 1
        return None

    def clip_length(self, path: str, uid: str, have: int, need: int,
                    modality: str) -> None:
        if need and have < need:
            self._report(Problem(
                'looped', path, f'{modality} clip of {have} frames < '
                f'{need} (the span of one clip of the pipeline: the loader '
                'loops it)'), uid)


def check_samples(data_list: Iterable[dict], min_frames: Optional[int] = None,
                  quick: bool = False, needs: Optional[dict] = None,
                  checker: Optional[_Checker] = None) -> List[Problem]:
    """Problems and notices of the files of the data_info dicts of a
    dataset whose pipeline needs ``needs`` (:func:`pipeline_needs`;
    default: no clip length, the loader's audio defaults)."""
    needs = needs or pipeline_needs([])
    checker = checker or _Checker(min_frames, quick)
    quick = checker.quick
    for info in data_list:
        uid = str(info.get('uid', '?'))
        mods = info.get('modalities', ('rgb', 'flow', 'audio'))
        lengths = {}
        for m in ('rgb', 'flow'):
            if m not in mods:
                continue
            need = needs['frames'].get(m, 0)
            if f'{m}_videos' in info:
                lens = [checker.video(p, uid) for p in info[f'{m}_videos']]
                if len(lens) == 2 and None not in lens and lens[0] != lens[1]:
                    checker._report(Problem(
                        'too_short', info[f'{m}_videos'][1],
                        f'{lens[1]} frames but its pair '
                        f'{osp.basename(info[f"{m}_videos"][0])} has '
                        f'{lens[0]}'), uid)
                span = info.get(f'{m}_time_span')
                path0 = info[f'{m}_videos'][0]
                if span and path0 in checker.video_seconds and \
                        checker.video_seconds[path0] + 1e-3 < span[1]:
                    checker._report(Problem(
                        'too_short', path0,
                        f'{checker.video_seconds[path0]:.2f} s < segment '
                        f'stop {span[1]:.2f} s'), uid)
                if None not in lens and lens:
                    have = min(lens)
                    if span and checker.video_seconds.get(path0):
                        fps = checker.video_len[path0] / \
                            checker.video_seconds[path0]
                        have = int(round(span[1] * fps)) - int(
                            round(span[0] * fps))
                    checker.clip_length(path0, uid, have, need, m)
                lengths[m] = checker.video_seconds.get(path0)
            elif f'{m}_total_frames' in info:
                first = int(info[f'{m}_start_index'])
                total = int(info[f'{m}_total_frames'])
                last = first + total - 1
                idx = sorted({first, last}) if quick else \
                    range(first, last + 1)
                dirs = [info['rgb_dir']] if m == 'rgb' else \
                    list(info['flow_dirs'])
                tmpl = info[f'{m}_tmpl']
                for d in dirs:
                    for i in idx:
                        checker.jpg(osp.join(d, tmpl.format(i)), uid, m)
                checker.clip_length(dirs[0], uid, total, need, m)
        if 'audio' in mods and 'audio_path' in info:
            if info.get('audio_stop') is not None:
                need_s = float(info['audio_stop'])
            else:
                # HAC: the audio should last the video.
                seconds = [s for s in lengths.values() if s]
                need_s = max(seconds) if seconds else None
            checker.audio(info['audio_path'], uid, need_s, needs)
    return sorted(checker.problems.values(),
                  key=lambda p: (p.kind, p.path))


def build_data_lists(cfg, loaders: Sequence[str] = (
        'train_dataloader', 'val_dataloader', 'test_dataloader'),
                     with_needs: bool = False) -> Dict[str, List[dict]]:
    """The data_info lists of a config's dataloaders (``apply_protocol``
    applied; datasets built without pipelines, so nothing is decoded).
    Split or annotation files that are missing or malformed raise.
    ``with_needs``: values are ``(infos, pipeline_needs(pipeline))``."""
    from mmaction.registry import DATASETS
    from mmengine.registry import init_default_scope

    from ..protocols import _innermost_datasets, apply_protocol
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    if cfg.get('target_domain', None) is not None or \
            cfg.get('source_domain', None) is not None:
        apply_protocol(cfg)
    lists, seen = {}, set()
    for key in loaders:
        loader = cfg.get(key, None)
        if not loader:
            continue
        for ds_cfg in _innermost_datasets(loader.get('dataset')):
            ds_cfg = dict(ds_cfg)
            needs = pipeline_needs(ds_cfg.get('pipeline'))
            ds_cfg['pipeline'] = []
            ident = repr(sorted((k, repr(v)) for k, v in ds_cfg.items())) \
                + repr(needs)
            if ident in seen:
                continue
            seen.add(ident)
            dataset = DATASETS.build(ds_cfg)
            infos = [dataset.get_data_info(i) for i in range(len(dataset))]
            lists[f"{key}:{ds_cfg.get('split')}:"
                  f"{','.join(ds_cfg.get('domains') or [])}"] = \
                (infos, needs) if with_needs else infos
    return lists


def check_dataset_cfg(cfg, min_frames: Optional[int] = None,
                      quick: bool = False, progress: bool = True) -> Dict:
    """Check every sample of a config's dataloaders, with the clip length
    and audio settings of each dataloader's pipeline.

    Returns:
        dict: ``samples`` (count per dataloader), ``problems`` (list of
        :class:`Problem`; split-file errors appear with kind ``'split'``,
        what training refuses in the config itself (an optimizer ``lr``
        that is not > 0) with kind ``'config'``)
        and ``notices`` (what the loader adjusts: looped clips, greyscale
        frames, padded audio).
    """
    from ..protocols import check_optimizer_cfg
    config_problems = []
    try:  # what training refuses in the config itself
        check_optimizer_cfg(cfg)
    except ValueError as e:
        config_problems.append(Problem('config', '-', str(e)))
    try:
        lists = build_data_lists(cfg, with_needs=True)
    except (OSError, ValueError, KeyError, TypeError) as e:
        return dict(samples={}, notices=[], problems=config_problems + [
            Problem('split', getattr(e, 'filename', None) or '-', str(e))])
    checker = _Checker(min_frames, quick)
    found: List[Problem] = []
    for infos, needs in lists.values():
        if progress:
            from mmengine.utils import track_iter_progress
            infos = list(track_iter_progress(infos))
        found = check_samples(infos, needs=needs, checker=checker)
    return dict(samples={k: len(v[0]) for k, v in lists.items()},
                problems=config_problems + [p for p in found
                                            if not p.is_notice],
                notices=[p for p in found if p.is_notice])


def hac_config(data_root: str, modalities=('rgb', 'flow', 'audio'),
               domains: Optional[Sequence[str]] = None):
    """A minimal config reading both splits of ``domains`` of a HAC root
    (default: the domains that have a split CSV in ``HAC_Splits``)."""
    import glob
    import re

    from mmengine.config import Config
    if domains is None:
        found = {re.sub(r'^HAC_(train|test)_only_|\.csv$', '',
                        osp.basename(p)) for p in glob.glob(
                            osp.join(data_root, 'HAC_Splits', 'HAC_*.csv'))}
        domains = [d for d in ('human', 'animal', 'cartoon') if d in found]
        domains = domains or ['human', 'animal', 'cartoon']
    return Config(dict(default_scope='mmaction', test_dataloader=dict(
        dataset=dict(type='HACDataset', data_root=data_root,
                     domains=list(domains), split='all',
                     modalities=tuple(modalities)))))


def epic_config(data_root: str, layout: str = 'frames',
                modalities=('rgb', 'flow', 'audio'),
                domains: Sequence[str] = ('D1', 'D2', 'D3')):
    """A minimal config reading both splits of ``domains`` of an EPIC root."""
    from mmengine.config import Config
    base = dict(type='EpicKitchensDataset', data_root=data_root,
                layout=layout, domains=list(domains),
                modalities=tuple(modalities))
    return Config(dict(
        default_scope='mmaction',
        train_dataloader=dict(dataset=dict(base, split='train')),
        test_dataloader=dict(dataset=dict(base, split='test'))))


__all__ = ['Problem', 'check_samples', 'check_dataset_cfg',
           'build_data_lists', 'hac_config', 'epic_config', 'pipeline_needs',
           'NOTICE_KINDS']
