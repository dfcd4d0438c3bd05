"""Scan a dataset against its split / annotation files before training.

:func:`check_dataset` builds the dataset's sample list (EPIC-Kitchens, HAC
or the generic format; from a config, after ``apply_protocol``) and opens
every file a sample needs, without running the pipelines:

* missing: a path that does not exist;
* unreadable: a video decord cannot open or decode (the first and last
  frames are decoded), a jpg that does not decode, an audio file soundfile
  cannot read to the end (a truncated wav has fewer samples than its
  header promises);
* too short: a video with fewer than ``min_frames`` frames, flow x/y videos
  of different lengths, a frame folder without the clip's last frame, an
  audio file shorter than the clip's audio window (EPIC timestamps, the
  generic format's ``stop``) or than the video (HAC, ``audio_tolerance``
  seconds of slack).

Every problem is reported (not only the first); the tool exits non-zero
when there is any.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence


@dataclass
class Problem:
    kind: str  # 'missing' | 'unreadable' | 'too_short' | 'split'
    path: str
    detail: str
    samples: List[str] = field(default_factory=list)

    def __str__(self) -> str:
        used = f" (used by {', '.join(self.samples[:3])}" + \
            (f' and {len(self.samples) - 3} more' if len(self.samples) > 3
             else '') + ')' if self.samples else ''
        where = '' if self.path == '-' else f' {self.path}:'
        return f'{self.kind.upper():10s}{where} {self.detail}{used}'


class _Checker:

    def __init__(self, min_frames: int, audio_tolerance: float):
        self.min_frames = min_frames
        self.audio_tolerance = audio_tolerance
        self.cache: Dict[str, Optional[Problem]] = {}
        self.video_len: Dict[str, int] = {}
        self.video_seconds: Dict[str, float] = {}
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
            if n > 0:
                reader.get_batch([0, n - 1]).asnumpy()
            fps = reader.get_avg_fps() or 0
        except Exception as e:  # decord raises its own DECORDError
            return Problem('unreadable', path,
                           f'decord cannot decode it ({type(e).__name__}: '
                           f'{str(e).splitlines()[0][:120]})')
        self.video_len[path] = n
        self.video_seconds[path] = n / fps if fps else 0.0
        if n < self.min_frames:
            return Problem('too_short', path,
                           f'{n} frames < min_frames={self.min_frames}')
        return None

    def audio(self, path: str, uid: str, need_seconds: Optional[float]
              ) -> None:
        if path not in self.cache:
            self.cache[path] = self._audio(path)
        self._report(self.cache[path], uid)
        if self.cache[path] is None and need_seconds is not None:
            have = self.video_seconds.get('audio:' + path, 0.0)
            if have + self.audio_tolerance < need_seconds:
                self._report(Problem(
                    'too_short', path,
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
        self.video_seconds['audio:' + path] = len(data) / info.samplerate
        return None

    def jpg(self, path: str, uid: str) -> None:
        if path not in self.cache:
            if not osp.isfile(path):
                self.cache[path] = Problem('missing', path, 'file not found')
            else:
                import cv2
                img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
                self.cache[path] = None if img is not None else Problem(
                    'unreadable', path, 'OpenCV cannot decode the image')
        self._report(self.cache[path], uid)


def check_samples(data_list: Iterable[dict], min_frames: int = 1,
                  audio_tolerance: float = 0.5,
                  check_all_frames: bool = False) -> List[Problem]:
    """Problems of the files of the data_info dicts of a dataset."""
    checker = _Checker(min_frames, audio_tolerance)
    for info in data_list:
        uid = str(info.get('uid', '?'))
        mods = info.get('modalities', ('rgb', 'flow', 'audio'))
        lengths = {}
        for m in ('rgb', 'flow'):
            if m not in mods:
                continue
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
                lengths[m] = checker.video_seconds.get(path0)
            elif f'{m}_total_frames' in info:
                first = int(info[f'{m}_start_index'])
                last = first + int(info[f'{m}_total_frames']) - 1
                idx = range(first, last + 1) if check_all_frames else \
                    sorted({first, last})
                dirs = [info['rgb_dir']] if m == 'rgb' else \
                    list(info['flow_dirs'])
                tmpl = info[f'{m}_tmpl']
                for d in dirs:
                    for i in idx:
                        checker.jpg(osp.join(d, tmpl.format(i)), uid)
        if 'audio' in mods and 'audio_path' in info:
            if info.get('audio_stop') is not None:
                need = float(info['audio_stop'])
            else:
                # HAC: the audio should last the video.
                seconds = [s for s in lengths.values() if s]
                need = max(seconds) if seconds else None
            checker.audio(info['audio_path'], uid, need)
    return sorted(checker.problems.values(),
                  key=lambda p: (p.kind, p.path))


def build_data_lists(cfg, loaders: Sequence[str] = (
        'train_dataloader', 'val_dataloader', 'test_dataloader')
                     ) -> Dict[str, List[dict]]:
    """The data_info lists of a config's dataloaders (``apply_protocol``
    applied; datasets built without pipelines, so nothing is decoded).
    Split or annotation files that are missing or malformed raise."""
    import mbcd_mmaction  # noqa: F401  (registers datasets)
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
            ds_cfg['pipeline'] = []
            ident = repr(sorted((k, repr(v)) for k, v in ds_cfg.items()))
            if ident in seen:
                continue
            seen.add(ident)
            dataset = DATASETS.build(ds_cfg)
            lists[f"{key}:{ds_cfg.get('split')}:"
                  f"{','.join(ds_cfg.get('domains') or [])}"] = [
                      dataset.get_data_info(i) for i in range(len(dataset))]
    return lists


def check_dataset_cfg(cfg, min_frames: int = 1, audio_tolerance: float = 0.5,
                      check_all_frames: bool = False, progress: bool = True
                      ) -> Dict:
    """Check every sample of a config's dataloaders.

    Returns:
        dict: ``samples`` (count per dataloader) and ``problems`` (list of
        :class:`Problem`; split-file errors appear with kind ``'split'``).
    """
    problems: List[Problem] = []
    try:
        lists = build_data_lists(cfg)
    except (OSError, ValueError, KeyError, TypeError) as e:
        return dict(samples={}, problems=[Problem(
            'split', getattr(e, 'filename', None) or '-', str(e))])
    everything = [info for infos in lists.values() for info in infos]
    if progress:
        from mmengine.utils import track_iter_progress
        everything = list(track_iter_progress(everything))
    problems = check_samples(everything, min_frames, audio_tolerance,
                             check_all_frames)
    return dict(samples={k: len(v) for k, v in lists.items()},
                problems=problems)


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
           'build_data_lists', 'hac_config', 'epic_config']
