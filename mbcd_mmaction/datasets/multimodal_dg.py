"""A generic multi-modal DG dataset: one annotation file, your own domains.

One row per sample, in a CSV file with a header or a JSON-lines file
(``.jsonl``/``.json``: one JSON object per line). Columns (keys):

=========  ========  ===================================================
column     required  meaning
=========  ========  ===================================================
domain     yes       domain name (any string)
label      yes       class index ``0..C-1``, or a class name when the
                     dataset is given ``classes``
split      no        ``train`` or ``test``; needed unless every dataset
                     of the config reads ``split='all'``
rgb        per mod.  RGB video (mp4/avi/... readable by decord)
flow_x     per mod.  x (u) flow video, grey (channel 0 is read)
flow_y     per mod.  y (v) flow video
audio      per mod.  audio file (wav/flac/ogg: anything soundfile reads)
start      no        segment start in seconds (default: the whole video)
stop       no        segment end in seconds
uid        no        sample id (default: the row number)
=========  ========  ===================================================

Paths are relative to ``data_root`` (an absolute path must lie inside
it); a path that leaves ``data_root`` (``../../etc/passwd``) is an error
naming the row. Labels are integers (``4.7`` is an error, not 4); a
``uid`` that repeats is an error. Only the columns of the
loaded modalities must be filled. Frames are sampled inside
``[start, stop]`` of each video (frame rate read from the file) and the
audio window is ``[start, stop]``; without ``start``/``stop`` the whole
video is the clip and the audio window is the sampled frames' span (as for
HAC). Example (CSV)::

    domain,split,label,rgb,flow_x,flow_y,audio,start,stop
    kitchen,train,0,kitchen/v1.mp4,kitchen/v1_x.mp4,kitchen/v1_y.mp4,kitchen/v1.wav,,
    garage,test,2,garage/v7.mp4,garage/v7_x.mp4,garage/v7_y.mp4,garage/v7.wav,3.0,5.5

Each data_info has the keys the transforms read (``rgb_videos``,
``flow_videos``, ``audio_path``, optional ``rgb_time_span``/
``flow_time_span``/``audio_start``/``audio_stop``) plus ``label``,
``domain``, ``domain_id`` (index in ``all_domains``), ``uid``.
"""
import json
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

import pandas as pd

from mmaction.registry import DATASETS

from .base import (ALL_MODALITIES, MultiModalBaseDataset, check_choice,
                   check_domains, check_modalities, missing_data_hint,
                   path_inside)

MODALITY_COLUMNS = {'rgb': ('rgb', ), 'flow': ('flow_x', 'flow_y'),
                    'audio': ('audio', )}


def read_annotations(path: str) -> pd.DataFrame:
    """The annotation table (CSV with header, or JSON lines)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file {path} not found.' +
                                missing_data_hint(osp.dirname(path)))
    if path.endswith(('.jsonl', '.json')):
        rows = []
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise ValueError(f'{path}:{lineno}: not JSON ({e}).'
                                         ) from None
        frame = pd.DataFrame(rows)
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if len(frame) == 0:
        raise ValueError(f'{path}: no rows.')
    return frame


def _empty(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) \
        or (isinstance(value, str) and not value.strip())


@DATASETS.register_module()
class MultiModalDGDataset(MultiModalBaseDataset):
    """Generic multi-modal DG dataset from one annotation file.

    Args:
        ann_file (str): CSV or JSON-lines annotation file (module docstring).
        data_root (str): Root of relative paths. Defaults to the annotation
            file's directory.
        pipeline (list[dict | callable]): Transforms (those of the HAC
            configs work unchanged).
        domains (Sequence[str] | None): Domains to read; ``None`` only in
            base configs (filled by ``apply_protocol``).
        split (str): ``'train'``, ``'test'`` or ``'all'``.
        modalities (Sequence[str]): Subset of ``('rgb', 'flow', 'audio')``.
        all_domains (Sequence[str], optional): Every domain, in the order of
            ``domain_id``. Defaults to the file's domains, sorted.
        classes (Sequence[str], optional): Class names; then ``label`` may
            be a name. Without it labels must be integers.
        test_mode (bool): Defaults to False.
    """

    def __init__(self,
                 ann_file: str,
                 data_root: Optional[str] = None,
                 pipeline: List[Union[dict, Callable]] = (),
                 domains: Optional[Sequence[str]] = None,
                 split: str = 'train',
                 modalities: Sequence[str] = ALL_MODALITIES,
                 all_domains: Optional[Sequence[str]] = None,
                 classes: Optional[Sequence[str]] = None,
                 test_mode: bool = False,
                 **kwargs) -> None:
        owner = 'MultiModalDGDataset'
        # the allowed domains come from the annotation file (checked when it
        # is read)
        self.domains = check_domains(owner, domains)
        check_choice(owner, 'split', split, ('train', 'test', 'all'))
        self.split = split
        self.modalities = check_modalities(owner, modalities)
        self.classes = tuple(classes) if classes is not None else None
        self._all_domains = tuple(all_domains) if all_domains else None
        if data_root is None:
            data_root = osp.dirname(osp.abspath(ann_file))
        metainfo = kwargs.pop('metainfo', None) or {}
        if self.classes is not None:
            metainfo.setdefault('classes', self.classes)
        super().__init__(ann_file=ann_file, pipeline=list(pipeline),
                         data_root=data_root, test_mode=test_mode,
                         metainfo=metainfo, **kwargs)

    def _path(self, value: str, where: str, key: str) -> str:
        return path_inside(self.data_root, value, where, key)

    def _label(self, value, where: str) -> int:
        if isinstance(value, str):
            value = value.strip()
            if self.classes is not None and value in self.classes:
                return self.classes.index(value)
        try:
            if isinstance(value, bool) or (isinstance(value, float) and
                                           not value.is_integer()):
                raise ValueError  # int() would truncate 4.7 to 4
            label = int(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f'{where}: label {value!r} is neither an integer'
                             f' nor one of classes={self.classes}.') from None
        if self.classes is not None and not 0 <= label < len(self.classes):
            raise ValueError(f'{where}: label {label} outside '
                             f'0..{len(self.classes) - 1}.')
        if label < 0:
            raise ValueError(f'{where}: negative label {label}.')
        return label

    def load_data_list(self) -> List[dict]:
        """Rows of the annotation file in ``domains`` and ``split``."""
        table = read_annotations(self.ann_file)
        for col in ('domain', 'label'):
            if col not in table.columns:
                raise KeyError(f'{self.ann_file}: missing column {col!r} '
                               f'(columns: {list(table.columns)}).')
        all_domains = self._all_domains or tuple(
            sorted({str(d) for d in table['domain']}))
        unknown = [d for d in self.domains if d not in all_domains]
        if unknown:
            raise ValueError(f'MultiModalDGDataset: domain(s) {unknown} not '
                             f'in {all_domains} ({self.ann_file}).')
        if self.split != 'all' and 'split' not in table.columns:
            raise KeyError(f"{self.ann_file}: no 'split' column, so only "
                           "split='all' can be read.")
        needed = [c for m in self.modalities for c in MODALITY_COLUMNS[m]]
        missing = [c for c in needed if c not in table.columns]
        if missing:
            raise KeyError(f'{self.ann_file}: modalities {self.modalities} '
                           f'need column(s) {missing}.')
        self._metainfo['domains'] = all_domains
        if 'uid' in table.columns:
            uids = [None if _empty(u) else str(u) for u in table['uid']]
            first = {}
            for i, uid in enumerate(uids):
                if uid is not None and uid in first:
                    raise ValueError(
                        f'{self.ann_file} rows {first[uid] + 1} and {i + 1}:'
                        f' uid {uid!r} repeats; every uid must be unique (a '
                        'repeated sample would count twice).')
                first.setdefault(uid, i)
        data_list = []
        for i, row in enumerate(table.to_dict('records')):
            domain = str(row['domain'])
            if domain not in self.domains:
                continue
            row_split = str(row.get('split', '')).strip()
            if self.split != 'all' and row_split != self.split:
                continue
            where = f'{self.ann_file} row {i + 1}'
            empty = [c for c in needed if _empty(row.get(c))]
            if empty:
                raise ValueError(f'{where}: empty {empty} for modalities '
                                 f'{self.modalities}.')
            uid = row.get('uid')
            info = dict(label=self._label(row['label'], where), domain=domain,
                        domain_id=all_domains.index(domain),
                        uid=str(i) if _empty(uid) else str(uid),
                        ann_file=f'{self.ann_file} row {i + 1}',
                        split=row_split, modalities=self.modalities)
            start, stop = row.get('start'), row.get('stop')
            span = None
            if not _empty(start) or not _empty(stop):
                if _empty(start) or _empty(stop):
                    raise ValueError(f'{where}: give both start and stop or '
                                     'neither.')
                span = (float(start), float(stop))
                if span[1] <= span[0]:
                    raise ValueError(f'{where}: stop {span[1]} <= start '
                                     f'{span[0]}.')
            if 'rgb' in self.modalities:
                info['rgb_videos'] = (self._path(row['rgb'], where, 'rgb'), )
                if span:
                    info['rgb_time_span'] = span
            if 'flow' in self.modalities:
                info['flow_videos'] = (
                    self._path(row['flow_x'], where, 'flow_x'),
                    self._path(row['flow_y'], where, 'flow_y'))
                if span:
                    info['flow_time_span'] = span
            if 'audio' in self.modalities:
                info['audio_path'] = self._path(row['audio'], where, 'audio')
                if span:
                    info.update(audio_start=span[0], audio_stop=span[1])
            data_list.append(info)
        if not data_list:
            raise ValueError(f'{self.ann_file}: no rows for domains '
                             f'{self.domains} and split {self.split!r}.')
        return data_list
