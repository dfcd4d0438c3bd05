"""Checkpoint integrity: damaged files are refused before torch reads them.

``torch.load`` checks no checksum: a checkpoint with a few KB zeroed by a
disk, network or copy fault loads, and its tensors are silently wrong.

* :class:`~mbcd_mmaction.engine.runner.MMDGRunner` writes beside every
  checkpoint it saves a sha256 file in ``sha256sum`` format
  (``epoch_3.pth.sha256``: ``<hex digest>  epoch_3.pth``), atomically and
  after the checkpoint itself is in place; ``SafeCheckpointHook`` removes
  and copies it together with its checkpoint.
* :func:`checkpoint_problem` / :func:`verify_checkpoint` check a file: with
  a sha256 file, the digest of the whole file; without one (a downloaded
  or converted pretrained file, a checkpoint of mmaction or of another
  runner), the zip archive ``torch.save`` writes: its central directory
  (written last: absent in a truncated file) and the CRC-32 of every
  record (``zipfile.ZipFile.testzip``). Both read the whole file once;
  measured on a 105 MB checkpoint (CPU, page cache warm): sha256 0.08 s,
  the CRC check 0.05 s, ``torch.load`` 0.05 s. A file of torch's legacy
  (non-zip, before torch 1.6) format has no checksums: without a sha256
  file it is not checked.

Every local checkpoint mmengine loads (``load_from``, ``--resume``,
``Runner.load_checkpoint``, pretrained weights through
``CheckpointLoader``) is verified first (:mod:`mbcd_mmaction.compat`).
Standard library only.
"""
import hashlib
import os
import os.path as osp
import re
import struct
import zipfile
import zlib
from typing import Optional

from .atomic import atomic_write_bytes, fsync_dir

DIGEST_SUFFIX = '.sha256'
_DIGEST_LINE = re.compile(r'^([0-9a-fA-F]{64})(?:[ \t]+\*?(.*))?$')
_ZIP_MAGIC = b'PK\x03\x04'
_PICKLE_PROTO = b'\x80'


class DamagedCheckpointError(ValueError):
    """A checkpoint file is missing, truncated, or its bytes changed since
    it was saved."""


class NoResumableCheckpointError(DamagedCheckpointError):
    """``--resume`` was asked for and the work directory holds checkpoint
    files, none of which can be resumed from."""


def digest_path(path: str) -> str:
    """The sha256 file of checkpoint ``path`` (``<path>.sha256``)."""
    return str(path) + DIGEST_SUFFIX


def file_sha256(path: str) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def write_checkpoint_digest(path: str, digest: Optional[str] = None) -> str:
    """Write ``<path>.sha256`` atomically (``digest``: of ``path``'s bytes,
    computed if not given); returns the digest."""
    digest = digest or file_sha256(path)
    atomic_write_bytes(digest_path(path),
                       f'{digest}  {osp.basename(str(path))}\n'.encode())
    return digest


def remove_checkpoint_digest(path: str) -> None:
    """Remove ``<path>.sha256`` if it exists (before ``path`` is replaced
    or removed: a digest never describes another file)."""
    side = digest_path(path)
    if osp.lexists(side):
        os.remove(side)
        fsync_dir(osp.dirname(osp.abspath(side)))


def _recorded_digest(side: str):
    """(digest, None) from a sha256 file, or (None, what is wrong)."""
    try:
        with open(side, 'rb') as f:
            text = f.read(4096).decode('utf-8', 'replace')
    except OSError as e:
        return None, f'its sha256 file {side} cannot be read ({e})'
    line = text.strip().splitlines()[0].strip() if text.strip() else ''
    match = _DIGEST_LINE.match(line)
    if not match:
        return None, (f'its sha256 file {side} does not hold a sha256 '
                      "digest (expected '<64 hex digits>  <file name>', "
                      f'got {line[:80]!r})')
    return match.group(1).lower(), None


def _zip_problem(path: str) -> Optional[str]:
    """What is wrong with the zip archive of a ``torch.save`` file, or
    None (also for torch's legacy format, which has no checksums)."""
    size = os.path.getsize(path)
    if size == 0:
        return 'the file is empty'
    with open(path, 'rb') as f:
        head = f.read(4)
    if head != _ZIP_MAGIC:
        if zipfile.is_zipfile(path):
            return (f'its first bytes are damaged ({head!r}, a torch.save '
                    "zip archive starts with b'PK\\x03\\x04')")
        if head.startswith(_PICKLE_PROTO):
            return None  # torch's legacy format: nothing to check
        return (f'it is not a torch checkpoint: its first bytes {head!r} '
                'are neither a zip archive\'s (torch.save) nor a pickle\'s '
                '(torch\'s legacy format)')
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            if not any(n == 'data.pkl' or n.endswith('/data.pkl')
                       for n in names):
                return ('it is a zip archive without a data.pkl record, not '
                        'a torch.save file')
            bad = z.testzip()
    except zipfile.BadZipFile as e:
        if 'central directory' in str(e).lower() or \
                'not a zip file' in str(e).lower():
            return (f'it is truncated or its end is damaged ({size} bytes: '
                    'the zip central directory, written last, cannot be '
                    f'read: {e})')
        return f'its zip structure is damaged ({e})'
    except (EOFError, OSError, ValueError, struct.error, zlib.error) as e:
        return f'its zip structure is damaged ({type(e).__name__}: {e})'
    if bad is not None:
        return (f'its zip record {bad!r} is damaged (its bytes do not match '
                'the CRC-32 or the header stored for them)')
    return None


# path -> file identity (size, mtime, ctime, inode) of the sha256 file and
# the checkpoint when they were last found intact: a checkpoint checked for
# auto-resume is not hashed again when it is loaded.
_VERIFIED = {}


def _identity(path: str, side: str):
    ids = []
    for p in (path, side):
        try:
            st = os.stat(p)
        except OSError:
            ids.append(None)
            continue
        ids.append((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(ids)


def checkpoint_problem(path: str) -> Optional[str]:
    """What is wrong with checkpoint ``path``, or None if it is intact.

    With a ``<path>.sha256`` file, the file's sha256 must be the one it
    records; without one, the zip central directory and every record's
    CRC-32 are checked.
    """
    path = str(path)
    if not osp.exists(path):
        return 'the file does not exist'
    if not osp.isfile(path):
        return 'it is not a file'
    side = digest_path(path)
    key = osp.abspath(path)
    identity = _identity(path, side)
    if _VERIFIED.get(key) == identity:
        return None
    if osp.exists(side):
        expected, problem = _recorded_digest(side)
        if problem is None:
            actual = file_sha256(path)
            if actual != expected:
                detail = _zip_problem(path)
                problem = (
                    'its sha256 is not the one recorded in '
                    f'{osp.basename(side)} when it was saved: its bytes '
                    'changed since' + (f'; {detail}' if detail else '') +
                    '. If the file was replaced on purpose, delete '
                    f'{side}')
    else:
        problem = _zip_problem(path)
    if problem is None:
        _VERIFIED[key] = identity
    else:
        _VERIFIED.pop(key, None)
    return problem


def verify_checkpoint(path: str) -> None:
    """Raise :class:`DamagedCheckpointError` naming ``path`` and what is
    wrong with it (see :func:`checkpoint_problem`)."""
    problem = checkpoint_problem(path)
    if problem is not None:
        raise DamagedCheckpointError(
            f'Cannot load checkpoint {path}: {problem}.')


def is_local_path(path) -> bool:
    """A file path (no ``scheme://`` such as ``https://``, ``s3://``,
    ``open-mmlab://``)."""
    return isinstance(path, (str, os.PathLike)) and '://' not in str(path)
