"""Raw videos with sound -> the HAC layout read by
:class:`~mbcd_mmaction.datasets.HACDataset`.

Input, either

* a folder ``{src}/{domain}/{class}/{video}.{mp4,avi,mov,mkv,webm,...}``
  (class folders named like the classes, ``_`` for spaces, any case, or by
  the class index), or
* a CSV with a header ``path,label,domain[,split]`` (``label`` a class name
  or index, paths relative to the CSV).

For every video it writes, under ``out``::

    {domain}/videos/{name}.mp4           the frames, converted to ``fps`` (24,
                                         the rate HAC is read at) by nearest
                                         frame, optionally resized
    {domain}/flow/{name}_flow_x.mp4      optical flow between consecutive
    {domain}/flow/{name}_flow_y.mp4      24 fps frames (TV-L1 from
                                         cv2.optflow when available, else
                                         Farneback), clipped to +-bound px
                                         (20) and mapped to 0..255 (128 = no
                                         motion), grey mp4s with as many
                                         frames as the video (the last flow
                                         frame is repeated)
    {domain}/audio/{name}.wav            the video's own audio track, 16 kHz
                                         mono, 16-bit (PyAV)
    HAC_Splits/HAC_{train,test}_only_{domain}.csv   name.mp4,label

A video without a split (folder input, or an empty ``split``) goes to
``test`` with probability ``test_fraction`` (0.2), decided by a hash of its
name, so re-running gives the same split. Existing outputs are kept
(``overwrite=False``) so an interrupted run resumes.
"""
import csv
import hashlib
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

from ..hac import HAC_CLASSES
from . import media

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg')


def _class_index(value: str, classes: Sequence[str], where: str) -> int:
    key = str(value).strip().lower().replace('_', ' ')
    names = [c.lower() for c in classes]
    if key in names:
        return names.index(key)
    if re.fullmatch(r'\d+', key) and int(key) < len(classes):
        return int(key)
    raise ValueError(f'{where}: {value!r} is not a class ({tuple(classes)} '
                     'or their index).')


def _safe_name(stem: str) -> str:
    return re.sub(r'[^A-Za-z0-9._-]+', '_', stem).strip('_') or 'video'


def discover_videos(src: str, classes: Sequence[str] = HAC_CLASSES
                    ) -> List[Dict]:
    """Items ``dict(path, domain, label, name, split=None)`` of a
    ``{src}/{domain}/{class}/{video}`` folder or a ``path,label,domain[,
    split]`` CSV."""
    items = []
    if osp.isfile(src):
        base = osp.dirname(osp.abspath(src))
        with open(src, newline='') as f:
            for i, row in enumerate(csv.DictReader(f), 2):
                missing = [k for k in ('path', 'label', 'domain')
                           if not row.get(k)]
                if missing:
                    raise ValueError(f'{src}:{i}: missing {missing}.')
                path = row['path'] if osp.isabs(row['path']) else \
                    osp.join(base, row['path'])
                items.append(dict(
                    path=path, domain=row['domain'].strip(),
                    label=_class_index(row['label'], classes, f'{src}:{i}'),
                    name=_safe_name(osp.splitext(osp.basename(path))[0]),
                    split=(row.get('split') or '').strip() or None))
    elif osp.isdir(src):
        for domain in sorted(os.listdir(src)):
            ddir = osp.join(src, domain)
            if not osp.isdir(ddir):
                continue
            for cls in sorted(os.listdir(ddir)):
                cdir = osp.join(ddir, cls)
                if not osp.isdir(cdir):
                    continue
                label = _class_index(cls, classes, cdir)
                for fname in sorted(os.listdir(cdir)):
                    if osp.splitext(fname)[1].lower() in VIDEO_EXTENSIONS:
                        items.append(dict(
                            path=osp.join(cdir, fname), domain=domain,
                            label=label,
                            name=_safe_name(osp.splitext(fname)[0]),
                            split=None))
    else:
        raise FileNotFoundError(f'{src}: no such folder or CSV.')
    if not items:
        raise ValueError(f'{src}: no videos found (expected '
                         f'{{domain}}/{{class}}/*{VIDEO_EXTENSIONS}).')
    seen = {}
    for item in items:
        key = (item['domain'], item['name'])
        if key in seen:
            raise ValueError(f"two videos map to {item['domain']}/"
                             f"{item['name']}: {seen[key]} and "
                             f"{item['path']}.")
        seen[key] = item['path']
    return items


def assign_splits(items: List[Dict], test_fraction: float = 0.2) -> None:
    """Fill ``split`` where it is None: ``'test'`` when the name's hash
    falls under ``test_fraction`` (stable across runs)."""
    for item in items:
        if item.get('split') in ('train', 'test'):
            continue
        if item.get('split'):
            raise ValueError(f"{item['path']}: split {item['split']!r}, "
                             "expected train or test.")
        digest = hashlib.sha1(
            f"{item['domain']}/{item['name']}".encode()).hexdigest()
        item['split'] = 'test' if int(digest[:8], 16) / 0xFFFFFFFF < \
            test_fraction else 'train'


def output_paths(out: str, domain: str, name: str) -> Dict[str, str]:
    return dict(
        video=osp.join(out, domain, 'videos', name + '.mp4'),
        flow_x=osp.join(out, domain, 'flow', name + '_flow_x.mp4'),
        flow_y=osp.join(out, domain, 'flow', name + '_flow_y.mp4'),
        audio=osp.join(out, domain, 'audio', name + '.wav'))


def prepare_video(item: Dict, out: str, fps: float = 24.0,
                  short_side: Optional[int] = None,
                  flow_algorithm: str = 'auto',
                  bound: float = media.FLOW_BOUND,
                  sample_rate: int = 16000,
                  overwrite: bool = False) -> Dict:
    """Write one video's four files; returns what was done."""
    paths = output_paths(out, item['domain'], item['name'])
    if not overwrite and all(osp.isfile(p) for p in paths.values()):
        return dict(name=item['name'], skipped=True)
    # Audio first: a video without sound fails before the slow flow.
    wav = media.read_audio_track(item['path'], sample_rate)
    if len(wav) == 0:
        raise ValueError(f"{item['path']}: the audio track is empty.")
    frames, src_fps = media.read_video_frames(item['path'])
    frames = media.resample_frames(frames, src_fps, fps)
    frames = media.resize_short_side(frames, short_side)
    flow = media.compute_flow(frames, flow_algorithm, bound)
    media.write_mp4(paths['video'], frames, fps)
    media.write_mp4(paths['flow_x'], flow[..., 0], fps)
    media.write_mp4(paths['flow_y'], flow[..., 1], fps)
    media.write_wav(paths['audio'], wav, sample_rate)
    return dict(name=item['name'], skipped=False, frames=len(frames),
                src_fps=src_fps, audio_seconds=len(wav) / sample_rate)


def write_splits(items: List[Dict], out: str) -> Dict[str, int]:
    """The header-less split CSVs (``name.mp4,label``), merged with rows
    already there (several runs can fill one root)."""
    split_dir = osp.join(out, 'HAC_Splits')
    os.makedirs(split_dir, exist_ok=True)
    groups: Dict[tuple, Dict[str, int]] = {}
    for item in items:
        groups.setdefault((item['domain'], item['split']), {})[
            item['name'] + '.mp4'] = item['label']
    counts = {}
    for (domain, split), rows in sorted(groups.items()):
        path = osp.join(split_dir, f'HAC_{split}_only_{domain}.csv')
        merged = {}
        if osp.isfile(path):
            with open(path, newline='') as f:
                merged = {r[0]: int(r[1]) for r in csv.reader(f) if r}
        merged.update(rows)
        with open(path + '.part', 'w', newline='') as f:
            csv.writer(f).writerows(sorted(merged.items()))
        os.replace(path + '.part', path)
        counts[f'{domain}_{split}'] = len(merged)
    return counts


def prepare_hac_layout(src: str, out: str, fps: float = 24.0,
                       short_side: Optional[int] = None,
                       flow_algorithm: str = 'auto',
                       bound: float = media.FLOW_BOUND,
                       sample_rate: int = 16000,
                       test_fraction: float = 0.2,
                       classes: Sequence[str] = HAC_CLASSES,
                       overwrite: bool = False,
                       progress: bool = True) -> Dict:
    """Convert ``src`` (folder or CSV, module docstring) into the HAC layout
    under ``out``.

    Returns:
        dict: ``counts`` per (domain, split), ``videos`` (per-video
        reports), ``flow_algorithm``, ``failed`` (path -> error).
    """
    items = discover_videos(src, classes)
    assign_splits(items, test_fraction)
    algorithm = media.make_flow_fn(flow_algorithm).algorithm
    reports, failed, done = [], {}, []
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(items))
    for item in items:
        try:
            reports.append(prepare_video(item, out, fps, short_side,
                                         algorithm, bound, sample_rate,
                                         overwrite))
            done.append(item)
        except (OSError, ValueError) as e:
            failed[item['path']] = str(e)
        if progress:
            bar.update()
    counts = write_splits(done, out) if done else {}
    return dict(counts=counts, videos=reports, failed=failed,
                flow_algorithm=algorithm)
