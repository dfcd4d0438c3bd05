"""EPIC-Kitchens (MM-SADA domain-adaptation splits) for multi-modal DG.

Split files: ``{split_dir}/D{1,2,3}_{train,test}.pkl``, pandas DataFrame
pickles (read without running code from them; a ``.csv`` of the same name,
written by ``tools/data/convert_splits.py``, is read instead when it
exists) with the columns ``uid, participant_id, video_id, narration,
start_timestamp, stop_timestamp ('hh:mm:ss.ff' strings), start_frame,
stop_frame, verb, verb_class``. Domains D1 = P08, D2 = P01, D3 = P22; the 8
verb classes ``take, put, open, close, wash, cut, mix, pour`` are
``verb_class`` 0..7. ``split_dir`` defaults to
``{data_root}/MM-SADA_Domain_Adaptation_Splits``.

Two on-disk layouts are supported (``layout=``):

``'frames'`` (SimMMDG's layout, under ``data_root``)::

    rgb/{split}/{D}/{video_id}/frame_{:010d}.jpg      # 60 fps, 1-based
    flow/{split}/{D}/{video_id}/u/frame_{:010d}.jpg   # 30 fps (half rate)
    flow/{split}/{D}/{video_id}/v/frame_{:010d}.jpg
    rgb/{split}/{D}/{video_id}.wav                    # one track per video

  A clip's RGB frames are ``start_frame .. stop_frame`` (inclusive); its flow
  frames start at ``ceil(start_frame / 2)`` and number
  ``(stop_frame - start_frame) // 2``; its audio is the span
  ``[start_timestamp, stop_timestamp]`` of the video's wav.

``'clips'`` (one mp4 per clip, as the MMDG-Bench port reads EPIC: its
``dataloaders/dataloader_EPIC.py``), under ``clips_root``, which defaults to
``{split_dir}/EPIC-mp4``::

    video/{split}/{D}/{D}_{video_id}_{start}_{stop}_{label}.mp4
        (or rgb/{split}/{D}/...; the first of video/, rgb/ that exists)
    flow/{split}/{D}/{D}_{video_id}_{fstart}_{fstop}_{label}_u.mp4
    flow/{split}/{D}/{D}_{video_id}_{fstart}_{fstop}_{label}_v.mp4

  with ``start/stop`` = ``start_frame/stop_frame``, ``label`` = ``verb_class``,
  ``fstart = ceil(start_frame / 2)`` and
  ``fstop = fstart + (stop_frame - start_frame) // 2``. Every frame of a clip
  mp4 belongs to the clip (frame indices count from 0). Flow mp4s hold the
  u (resp. v) component as a grey image; channel 0 is read. The port keeps
  the audio per video, not per clip, at ``{split_dir}/rgb/{split}/{D}/
  {video_id}.wav``; ``audio_root`` therefore defaults to ``split_dir`` for
  this layout (to ``data_root`` for ``'frames'``).

Each data_info dict carries ``label`` (int), ``domain`` (str), ``domain_id``
(int, index in :data:`ALL_DOMAINS`), ``uid``, ``modalities`` (tuple) and,
per loaded modality, what the loading transforms of
:mod:`mbcd_mmaction.datasets.transforms` read:

* rgb, frames: ``rgb_dir``, ``rgb_tmpl``, ``rgb_start_index``,
  ``rgb_total_frames``; clips: ``rgb_videos`` (one path).
* flow, frames: ``flow_dirs`` (u dir, v dir), ``flow_tmpl``,
  ``flow_start_index``, ``flow_total_frames``; clips: ``flow_videos``
  (u path, v path).
* audio: ``audio_path``, ``audio_start`` and ``audio_stop`` (seconds).
"""
import math
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

from mmaction.registry import DATASETS

from .base import (ALL_MODALITIES, MultiModalBaseDataset, check_choice,
                   check_domains, check_modalities, missing_data_hint,
                   plain_name)
from .split_files import SPLIT_COLUMNS  # noqa: F401  (re-exported)
from .split_files import read_split_table, split_file

ALL_DOMAINS = ('D1', 'D2', 'D3')
DOMAIN_PARTICIPANTS = {'D1': 'P08', 'D2': 'P01', 'D3': 'P22'}
CLASSES = ('take', 'put', 'open', 'close', 'wash', 'cut', 'mix', 'pour')
RGB_TMPL = 'frame_{:010d}.jpg'


def timestamp_to_seconds(timestamp: str) -> float:
    """Parse an EPIC ``'hh:mm:ss.ff'`` timestamp into seconds.

    Raises:
        ValueError: if ``timestamp`` is not of that form.
    """
    try:
        hours, minutes, seconds = str(timestamp).split(':')
        return (int(hours) * 60 + int(minutes)) * 60 + float(seconds)
    except ValueError:
        raise ValueError(f'timestamp {timestamp!r} is not of the form '
                         "'hh:mm:ss.ff'") from None


def flow_span(start_frame: int, stop_frame: int):
    """The flow frames of an RGB clip (flow is at half the RGB frame rate).

    Returns:
        tuple[int, int]: ``(first flow frame index, number of flow frames)``
        = ``(ceil(start_frame / 2), (stop_frame - start_frame) // 2)``.
    """
    return (int(math.ceil(start_frame / 2)),
            int((stop_frame - start_frame) // 2))


def clip_mp4_name(domain: str, video_id: str, start: int, stop: int,
                  label: int, suffix: str = '') -> str:
    """File name of one clip in the port's mp4-per-clip layout."""
    return f'{domain}_{video_id}_{int(start)}_{int(stop)}_{int(label)}' \
           f'{suffix}.mp4'


@DATASETS.register_module()
class EpicKitchensDataset(MultiModalBaseDataset):
    """EPIC-Kitchens MM-SADA splits, RGB + optical flow + audio.

    Args:
        data_root (str): Dataset root (see the module docstring for layouts).
        pipeline (list[dict | callable]): Transforms; the results keys are
            described in the module docstring.
        domains (Sequence[str] | None): Subset of ``('D1', 'D2', 'D3')`` to
            read. ``None`` is allowed in a base config, to be filled by
            :func:`mbcd_mmaction.datasets.protocols.apply_protocol`; building
            the dataset with ``None`` raises.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        layout (str): ``'frames'`` or ``'clips'``. Defaults to ``'frames'``.
        modalities (Sequence[str]): Subset of ``('rgb', 'flow', 'audio')``.
        split_dir (str, optional): Directory of the split pickles. Defaults to
            ``{data_root}/MM-SADA_Domain_Adaptation_Splits``.
        clips_root (str, optional): Root of the ``'clips'`` layout. Defaults
            to ``{split_dir}/EPIC-mp4``.
        audio_root (str, optional): Root of ``rgb/{split}/{D}/{video}.wav``.
            Defaults to ``data_root`` ('frames') or ``split_dir`` ('clips').
        test_mode (bool): Defaults to False.
        **kwargs: Passed to :class:`~mbcd_mmaction.datasets.base.
            MultiModalBaseDataset` (e.g. ``skip_unreadable``) and mmaction's
            ``BaseActionDataset`` (e.g. ``indices``, ``lazy_init``).
    """

    METAINFO = dict(classes=CLASSES, domains=ALL_DOMAINS)

    def __init__(self,
                 data_root: str,
                 pipeline: List[Union[dict, Callable]] = (),
                 domains: Optional[Sequence[str]] = None,
                 split: str = 'train',
                 layout: str = 'frames',
                 modalities: Sequence[str] = ALL_MODALITIES,
                 split_dir: Optional[str] = None,
                 clips_root: Optional[str] = None,
                 audio_root: Optional[str] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        owner = 'EpicKitchensDataset'
        self.domains = check_domains(owner, domains, ALL_DOMAINS,
                                     " (e.g. domains=['D2', 'D3'])")
        check_choice(owner, 'split', split, ('train', 'test'))
        check_choice(owner, 'layout', layout, ('frames', 'clips'))
        self.split = split
        self.layout = layout
        self.modalities = check_modalities(owner, modalities)
        self.split_dir = split_dir or osp.join(
            data_root, 'MM-SADA_Domain_Adaptation_Splits')
        self.clips_root = clips_root or osp.join(self.split_dir, 'EPIC-mp4')
        if audio_root is None:
            audio_root = data_root if layout == 'frames' else self.split_dir
        self.audio_root = audio_root
        super().__init__(
            ann_file='',
            pipeline=list(pipeline),
            data_root=data_root,
            test_mode=test_mode,
            **kwargs)

    # ------------------------------------------------------------------
    def _read_split(self, domain: str):
        """``(path, table)`` of ``domain``'s split file (the CSV when it
        exists, else the pickle, read without running code from it:
        :mod:`mbcd_mmaction.datasets.split_files`)."""
        path = split_file(self.split_dir, domain, self.split)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'EpicKitchensDataset: split file {path} not found (expected '
                f'the MM-SADA pickle {domain}_{self.split}.pkl or its CSV '
                f'{domain}_{self.split}.csv in split_dir={self.split_dir}).' +
                missing_data_hint(self.data_root, 'epic'))
        return path, read_split_table(path)

    def _mp4_dir(self, modality: str, domain: str) -> str:
        if modality == 'rgb':
            candidates = [osp.join(self.clips_root, sub, self.split, domain)
                          for sub in ('video', 'rgb')]
            # The port takes the first that exists; report video/ otherwise.
            for cand in candidates:
                if osp.isdir(cand):
                    return cand
            return candidates[0]
        return osp.join(self.clips_root, 'flow', self.split, domain)

    def load_data_list(self) -> List[dict]:
        """Read the split pickles of all ``domains`` into data_info dicts."""
        data_list = []
        num_classes = len(CLASSES)
        seen = {}  # uid -> split file
        for domain in self.domains:
            path, frame = self._read_split(domain)
            domain_id = ALL_DOMAINS.index(domain)
            for row in frame.itertuples(index=False):
                if row.uid in seen:
                    raise ValueError(
                        f'{path}: uid {row.uid} is also in {seen[row.uid]}; '
                        'every uid of a dataset must be unique (a repeated '
                        'sample would count twice).')
                seen[row.uid] = path
                label = int(row.verb_class)
                if not 0 <= label < num_classes:
                    raise ValueError(
                        f'{path}: uid {row.uid} has verb_class={label}, '
                        f'expected 0..{num_classes - 1} ({CLASSES}).')
                start, stop = int(row.start_frame), int(row.stop_frame)
                if stop < start:
                    raise ValueError(
                        f'{path}: uid {row.uid} has stop_frame={stop} < '
                        f'start_frame={start}.')
                video_id = plain_name(row.video_id,
                                      f'{path}: uid {row.uid}', 'video_id')
                info = dict(
                    label=label, domain=domain, domain_id=domain_id,
                    uid=row.uid if isinstance(row.uid, str) else int(row.uid),
                    ann_file=path,
                    video_id=video_id, modalities=self.modalities,
                    start_frame=start, stop_frame=stop)
                fstart, fnum = flow_span(start, stop)
                if self.layout == 'frames':
                    if 'rgb' in self.modalities:
                        info.update(
                            rgb_dir=osp.join(self.data_root, 'rgb',
                                             self.split, domain, video_id),
                            rgb_tmpl=RGB_TMPL, rgb_start_index=start,
                            rgb_total_frames=stop - start + 1)
                    if 'flow' in self.modalities:
                        fdir = osp.join(self.data_root, 'flow', self.split,
                                        domain, video_id)
                        info.update(
                            flow_dirs=(osp.join(fdir, 'u'),
                                       osp.join(fdir, 'v')),
                            flow_tmpl=RGB_TMPL, flow_start_index=fstart,
                            flow_total_frames=max(fnum, 1))
                else:
                    if 'rgb' in self.modalities:
                        info['rgb_videos'] = (osp.join(
                            self._mp4_dir('rgb', domain),
                            clip_mp4_name(domain, video_id, start, stop,
                                          label)), )
                    if 'flow' in self.modalities:
                        fdir = self._mp4_dir('flow', domain)
                        info['flow_videos'] = tuple(
                            osp.join(fdir, clip_mp4_name(
                                domain, video_id, fstart, fstart + fnum,
                                label, f'_{c}')) for c in 'uv')
                if 'audio' in self.modalities:
                    info.update(
                        audio_path=osp.join(self.audio_root, 'rgb',
                                            self.split, domain,
                                            video_id + '.wav'),
                        audio_start=timestamp_to_seconds(row.start_timestamp),
                        audio_stop=timestamp_to_seconds(row.stop_timestamp))
                data_list.append(info)
        return data_list
