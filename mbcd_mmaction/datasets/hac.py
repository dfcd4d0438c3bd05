"""HAC (Human-Animal-Cartoon, Dong et al. 2023) for multi-modal DG.

Layout under ``data_root`` (``video_root`` may point elsewhere; the
MMDG-Bench port keeps the domain folders inside ``HAC_Splits/``)::

    HAC_Splits/HAC_{train,test}_only_{domain}.csv   # header-less: name.mp4,label
    {domain}/videos/{name}.mp4                       # RGB, read at 24 fps
    {domain}/flow/{name}_flow_x.mp4                  # x (u) flow, grey
    {domain}/flow/{name}_flow_y.mp4                  # y (v) flow, grey
    {domain}/audio/{name}.wav

Domains ``human``, ``animal``, ``cartoon``; 7 classes (labels 0..6 in
:data:`HAC_CLASSES` order). The whole video is the clip: frames are sampled
from all of its frames (indices from 0; the port passes ``frame_num - 1`` as
the count and so never samples the last frame, this dataset uses them all),
and the audio window is the sampled frames' span divided by 24 (see
:func:`mbcd_mmaction.datasets.transforms.audio_span`; the RGB frames' span,
the flow frames' when RGB is not loaded, the whole track for audio alone).

``split='all'`` reads train and test: a target domain is evaluated on all of
its videos, as in the paper (Appendix: "when a domain is designated as the
target, the full set ... is utilized").

Each data_info: ``label``, ``domain``, ``domain_id`` (index in
:data:`HAC_DOMAINS`), ``uid`` (``'{domain}/{name}'``), ``video_id``,
``modalities``, ``rgb_videos`` (1 path), ``flow_videos`` (x path, y path),
``audio_path``, ``audio_frame_fps`` (24) and ``rgb_fps``/``flow_fps`` (24).
"""
import csv
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

from mmaction.registry import DATASETS

from .base import (ALL_MODALITIES, MultiModalBaseDataset, check_choice,
                   check_domains, check_modalities, missing_data_hint,
                   path_inside)

HAC_DOMAINS = ('human', 'animal', 'cartoon')
HAC_CLASSES = ('sleeping', 'watching tv', 'eating', 'drinking', 'swimming',
               'running', 'opening door')
HAC_FPS = 24.0


def hac_split_file(split_dir: str, split: str, domain: str) -> str:
    """Path of ``HAC_{split}_only_{domain}.csv``."""
    return osp.join(split_dir, f'HAC_{split}_only_{domain}.csv')


def read_hac_split(path: str, num_classes: int = len(HAC_CLASSES)):
    """Rows ``(name, label)`` of one header-less HAC split CSV.

    Raises:
        FileNotFoundError / ValueError: missing file, malformed row, label
        out of range, empty split.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'HAC split file {path} not found.')
    rows = []
    with open(path, newline='') as f:
        for lineno, row in enumerate(csv.reader(f), 1):
            if not row or not ''.join(row).strip():
                continue
            if len(row) < 2:
                raise ValueError(f'{path}:{lineno}: expected "name.mp4,label",'
                                 f' got {row!r}.')
            name, label = row[0].strip(), row[1].strip()
            try:
                label = int(label)
            except ValueError:
                raise ValueError(
                    f'{path}:{lineno}: label {label!r} is not an integer '
                    '(the CSVs have no header).') from None
            if not 0 <= label < num_classes:
                raise ValueError(f'{path}:{lineno}: label {label} outside '
                                 f'0..{num_classes - 1}.')
            rows.append((name, label))
    if not rows:
        raise ValueError(f'{path}: the split is empty.')
    return rows


def hac_paths(video_root: str, domain: str, name: str) -> dict:
    """The files of video ``name`` (``'x.mp4'`` or ``'x'``) of ``domain``."""
    stem = name[:-4] if name.endswith('.mp4') else name
    return dict(
        rgb=osp.join(video_root, domain, 'videos', stem + '.mp4'),
        flow=(osp.join(video_root, domain, 'flow', stem + '_flow_x.mp4'),
              osp.join(video_root, domain, 'flow', stem + '_flow_y.mp4')),
        audio=osp.join(video_root, domain, 'audio', stem + '.wav'))


@DATASETS.register_module()
class HACDataset(MultiModalBaseDataset):
    """HAC, RGB + optical flow + audio (see the module docstring).

    Args:
        data_root (str): Dataset root.
        pipeline (list[dict | callable]): Transforms.
        domains (Sequence[str] | None): Subset of :data:`HAC_DOMAINS`;
            ``None`` only in base configs (filled by ``apply_protocol``).
        split (str): ``'train'``, ``'test'`` or ``'all'`` (train + test, the
            target evaluation set). Defaults to ``'train'``.
        modalities (Sequence[str]): Subset of ``('rgb', 'flow', 'audio')``.
        split_dir (str, optional): Defaults to ``{data_root}/HAC_Splits``.
        video_root (str, optional): Root of the ``{domain}/...`` folders.
            Defaults to ``data_root``.
        fps (float): Frame rate used to turn frame indices into audio time.
            Defaults to 24.
        test_mode (bool): Defaults to False.
        **kwargs: Passed to :class:`~mbcd_mmaction.datasets.base.
            MultiModalBaseDataset` (e.g. ``skip_unreadable``) and mmaction's
            ``BaseActionDataset``.
    """

    METAINFO = dict(classes=HAC_CLASSES, domains=HAC_DOMAINS)

    def __init__(self,
                 data_root: str,
                 pipeline: List[Union[dict, Callable]] = (),
                 domains: Optional[Sequence[str]] = None,
                 split: str = 'train',
                 modalities: Sequence[str] = ALL_MODALITIES,
                 split_dir: Optional[str] = None,
                 video_root: Optional[str] = None,
                 fps: float = HAC_FPS,
                 test_mode: bool = False,
                 **kwargs) -> None:
        owner = 'HACDataset'
        self.domains = check_domains(owner, domains, HAC_DOMAINS,
                                     " (e.g. domains=['human'])")
        check_choice(owner, 'split', split, ('train', 'test', 'all'))
        self.split = split
        self.modalities = check_modalities(owner, modalities)
        self.split_dir = split_dir or osp.join(data_root, 'HAC_Splits')
        self.video_root = video_root or data_root
        self.fps = float(fps)
        super().__init__(ann_file='', pipeline=list(pipeline),
                         data_root=data_root, test_mode=test_mode, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the split CSVs of all ``domains`` into data_info dicts."""
        splits = ('train', 'test') if self.split == 'all' else (self.split, )
        data_list = []
        seen = {}  # uid -> split file
        for domain in self.domains:
            domain_id = HAC_DOMAINS.index(domain)
            for split in splits:
                path = hac_split_file(self.split_dir, split, domain)
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'HACDataset: split file {path} not found.' +
                        missing_data_hint(self.data_root, 'hac'))
                for name, label in read_hac_split(path):
                    uid = f'{domain}/{name}'
                    if uid in seen:
                        raise ValueError(
                            f'{path}: video {name!r} is listed again (also '
                            f'in {seen[uid]}); each video once (a repeated '
                            'sample would count twice).')
                    seen[uid] = path
                    files = hac_paths(self.video_root, domain, name)
                    # (its flow and audio files are as deep as the rgb)
                    path_inside(self.video_root, files['rgb'],
                                f'{path}: video {name!r}', 'its file')
                    info = dict(label=label, domain=domain,
                                domain_id=domain_id, uid=uid,
                                ann_file=path,
                                video_id=name, split=split,
                                modalities=self.modalities,
                                audio_frame_fps=self.fps)
                    if 'rgb' in self.modalities:
                        info.update(rgb_videos=(files['rgb'], ),
                                    rgb_fps=self.fps)
                    if 'flow' in self.modalities:
                        info.update(flow_videos=files['flow'],
                                    flow_fps=self.fps)
                    if 'audio' in self.modalities:
                        info['audio_path'] = files['audio']
                    data_list.append(info)
        return data_list
