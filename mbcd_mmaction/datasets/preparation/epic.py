"""EPIC-Kitchens-55 download -> the ``'frames'`` layout of
:class:`~mbcd_mmaction.datasets.EpicKitchensDataset` (SimMMDG's layout).

Input (``epic_root``, the EPIC-KITCHENS-55 download, with or without the
``EPIC_KITCHENS_2018/`` level)::

    frames_rgb_flow/rgb/{train,test}/P08/P08_01.tar    (or an extracted
    frames_rgb_flow/flow/{train,test}/P08/P08_01.tar    P08_01/ folder)
    videos/{train,test}/P08/P08_01.MP4                 (for the audio)

plus the MM-SADA split pickles ``D{1,2,3}_{train,test}.pkl`` (or their
CSVs, ``tools/data/convert_splits.py``; read without running code from
them). Output
(``out``)::

    rgb/{split}/D1/P08_01/frame_0000000001.jpg      (tar extracted, or a
    flow/{split}/D1/P08_01/{u,v}/frame_*.jpg         symlink / copy of an
    rgb/{split}/D1/P08_01.wav                        extracted folder)
    MM-SADA_Domain_Adaptation_Splits/D1_train.pkl ...

``{split}`` is the MM-SADA split (``D1_test.pkl`` -> ``test``), not
EPIC-55's own train/test folder (the video is looked up in both). The wav is
the video's own audio track, 16 kHz mono (PyAV). Existing outputs are kept,
so an interrupted run resumes.
"""
import os
import os.path as osp
import shutil
import tarfile
from typing import Dict, List, Optional, Sequence

from ..epic_kitchens import ALL_DOMAINS, DOMAIN_PARTICIPANTS
from ..split_files import read_split_table, split_file
from . import media

EPIC_SPLITS = ('train', 'test')


def _roots(epic_root: str) -> List[str]:
    return [epic_root, osp.join(epic_root, 'EPIC_KITCHENS_2018')]


def find_source(epic_root: str, kind: str, participant: str,
                video_id: str) -> Optional[str]:
    """The frames folder or tar (``kind`` 'rgb' / 'flow') or the video
    (``kind`` 'video') of ``video_id`` in the download, or None."""
    for root in _roots(epic_root):
        for split in EPIC_SPLITS:
            if kind == 'video':
                base = osp.join(root, 'videos', split, participant, video_id)
                cands = [base + ext for ext in ('.MP4', '.mp4')]
            else:
                base = osp.join(root, 'frames_rgb_flow', kind, split,
                                participant, video_id)
                cands = [base, base + '.tar']
            for cand in cands:
                if osp.exists(cand):
                    return cand
    return None


def _extract_tar(tar_path: str, dest: str) -> None:
    tmp = dest + '.part'
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with tarfile.open(tar_path) as tar:
        for member in tar.getmembers():
            name = osp.normpath(member.name)
            if name.startswith(('..', '/')) or not member.isfile():
                continue  # no path traversal, only regular files
            member.name = name
            tar.extract(member, tmp)
    os.replace(tmp, dest)


def _place(src: str, dest: str, mode: str) -> None:
    os.makedirs(osp.dirname(dest), exist_ok=True)
    if src.endswith('.tar'):
        _extract_tar(src, dest)
    elif mode == 'symlink':
        os.symlink(osp.abspath(src), dest)
    else:
        shutil.copytree(src, dest)


def prepare_epic_kitchens(epic_root: str, split_dir: str, out: str,
                          modalities: Sequence[str] = ('rgb', 'flow',
                                                       'audio'),
                          domains: Sequence[str] = ALL_DOMAINS,
                          mode: str = 'symlink', sample_rate: int = 16000,
                          progress: bool = True) -> Dict:
    """Build the frames layout under ``out`` (module docstring).

    Args:
        mode (str): For extracted folders: ``'symlink'`` (default) or
            ``'copy'``. Tars are always extracted.

    Returns:
        dict: ``videos`` per (domain, split), ``missing`` (what the
        download lacks), ``written`` (count).
    """
    if mode not in ('symlink', 'copy'):
        raise ValueError(f"mode={mode!r}, expected 'symlink' or 'copy'.")
    out_splits = osp.join(out, 'MM-SADA_Domain_Adaptation_Splits')
    os.makedirs(out_splits, exist_ok=True)
    jobs = []
    for domain in domains:
        participant = DOMAIN_PARTICIPANTS[domain]
        for split in EPIC_SPLITS:
            pkl = split_file(split_dir, domain, split)
            if not osp.isfile(pkl):
                raise FileNotFoundError(f'{pkl}: MM-SADA split not found.')
            # read (without running code from a pickle) before copying
            table = read_split_table(pkl)
            dest_pkl = osp.join(out_splits, osp.basename(pkl))
            if osp.abspath(pkl) != osp.abspath(dest_pkl):
                shutil.copy2(pkl, dest_pkl)
            for vid in sorted(set(table['video_id'])):
                jobs.append((domain, participant, split, vid))
    missing, written = [], 0
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(jobs))
    for domain, participant, split, vid in jobs:
        for kind in ('rgb', 'flow'):
            if kind not in modalities:
                continue
            dest = osp.join(out, kind, split, domain, vid)
            if osp.lexists(dest):
                continue
            src = find_source(epic_root, kind, participant, vid)
            if src is None:
                missing.append(f'{kind} frames of {vid}')
                continue
            _place(src, dest, mode)
            written += 1
        if 'audio' in modalities:
            wav = osp.join(out, 'rgb', split, domain, vid + '.wav')
            if not osp.isfile(wav):
                src = find_source(epic_root, 'video', participant, vid)
                if src is None:
                    missing.append(f'video (audio) of {vid}')
                else:
                    media.write_wav(
                        wav, media.read_audio_track(src, sample_rate),
                        sample_rate)
                    written += 1
        if progress:
            bar.update()
    return dict(videos=len(jobs), missing=missing, written=written)
