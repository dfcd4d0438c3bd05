"""An exclusive lock on a work directory (standard library only).

A run holds ``<work_dir>/run.lock`` for its whole duration: an
``fcntl.flock`` on the open file, so the lock goes with the process (a
crash, ``kill -9`` or a lost machine releases it; no stale lock can block a
later run). The file records who holds it (pid, host, since, command) for
the error the next run gets. A lock file left by a process that is gone is
taken over with a warning. The lock is taken before anything else is
written to the directory and removed when the run ends.

``tools/train.py`` / ``tools/test.py`` (``mbcd_mmaction.apis.train`` /
``test``) hold ``run.lock``; a sweep holds ``sweep.lock`` of each run it
has launched while the run's job is queued or running
(:mod:`mbcd_mmaction.experiments.sweep`).
"""
import errno
import fcntl
import json
import logging
import os
import os.path as osp
import socket
import sys
from datetime import datetime
from typing import Dict, Optional

RUN_LOCK = 'run.lock'
SWEEP_LOCK = 'sweep.lock'
#: Set to 1 on a file system without working ``flock`` (a clear error
#: otherwise): runs then take no lock and nothing guards the directory.
NO_LOCK_ENV = 'MBCD_NO_WORK_DIR_LOCK'

logger = logging.getLogger(__name__)

# Locks this process holds: path -> [fd, count] (re-entrant per process).
_HELD: Dict[str, list] = {}


def _close_in_forked_child() -> None:
    # A forked child (a DataLoader worker) shares the parent's open file:
    # the lock would outlive a crashed parent while its workers linger.
    # Closing the child's copy keeps the parent's lock.
    for fd, _ in list(_HELD.values()):
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_close_in_forked_child)


class WorkDirLockedError(RuntimeError):
    """Another live process holds the work directory's lock."""

    def __init__(self, message: str, holder: Optional[dict] = None):
        super().__init__(message)
        self.holder = holder or {}


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def _read(fd_or_path) -> dict:
    try:
        if isinstance(fd_or_path, int):
            os.lseek(fd_or_path, 0, os.SEEK_SET)
            data = b''
            while True:
                chunk = os.read(fd_or_path, 65536)
                if not chunk:
                    break
                data += chunk
        else:
            with open(fd_or_path, 'rb') as f:
                data = f.read()
        return json.loads(data.decode()) if data.strip() else {}
    except (OSError, ValueError):
        return {}


def describe_holder(holder: dict) -> str:
    if not holder:
        return 'an unknown process (the lock file names none)'
    return (f'pid {holder.get("pid")} on host {holder.get("host")} since '
            f'{holder.get("since")}' +
            (f' ({holder["command"]})' if holder.get('command') else ''))


def _fs_error(path: str, err: OSError) -> RuntimeError:
    return RuntimeError(
        f'Cannot lock {path}: {err}. The file system of the work directory '
        'does not support flock (some network file systems need a mount '
        f'option for it). Set {NO_LOCK_ENV}=1 to run without the lock '
        '(then nothing stops two runs from writing into one directory).')


def _try_flock(fd: int, path: str) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as err:
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise _fs_error(path, err) from err


def holder(work_dir: str, name: str = RUN_LOCK) -> Optional[dict]:
    """Who holds ``<work_dir>/<name>`` now (its record, ``{}`` if it names
    nobody), or None when it is free. Writes nothing."""
    path = osp.join(work_dir, name)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        if osp.realpath(path) in _HELD:
            return _read(fd)
        if _try_flock(fd, path):
            return None
        return _read(fd)
    finally:
        os.close(fd)  # releases a probe lock


class WorkDirLock:
    """Exclusive lock ``<work_dir>/<name>``; a context manager.

    Args:
        work_dir: The directory (created if missing).
        name: The lock file's name.
        what: Who asks, for the error (``'this run'``).
        enabled: False: a lock that takes nothing (the other ranks of a
            distributed run).
    """

    def __init__(self, work_dir: str, name: str = RUN_LOCK,
                 what: str = 'this run', enabled: bool = True):
        self.enabled = enabled
        self.work_dir = work_dir
        self.path = osp.join(work_dir, name)
        self.what = what
        self._key = None

    def acquire(self) -> 'WorkDirLock':
        if not self.enabled:
            return self
        if self._key is not None:
            raise RuntimeError(f'{self.path}: this lock object is held '
                               'already')
        if os.environ.get(NO_LOCK_ENV, '') == '1':
            logger.warning('%s=1: %s takes no lock on %s', NO_LOCK_ENV,
                           self.what, self.work_dir)
            return self
        os.makedirs(self.work_dir, exist_ok=True)
        key = osp.realpath(self.path)
        if key in _HELD:  # this process holds it already
            _HELD[key][1] += 1
            self._key = key
            return self
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                locked = _try_flock(fd, self.path)
            except BaseException:
                os.close(fd)
                raise
            if not locked:
                record = _read(fd)
                os.close(fd)
                self._refuse(record)
            # the holder may have removed the file between our open and
            # flock: then we locked an orphan; start again
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = _read(fd)
        if previous:
            host = previous.get('host')
            alive = host == socket.gethostname() and \
                _pid_alive(previous.get('pid'))
            state = ('no longer runs' if host == socket.gethostname() else
                     'ran on another host and no longer holds it')
            if alive:
                state = 'is alive but does not hold it (a copied work ' \
                    'directory?)'
            logger.warning(
                'Taking over the lock %s left by %s: that process %s.',
                self.path, describe_holder(previous), state)
        record = dict(pid=os.getpid(), host=socket.gethostname(),
                      since=datetime.now().astimezone().isoformat(
                          timespec='seconds'),
                      command=' '.join(sys.argv))
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(record).encode())
        os.fsync(fd)
        _HELD[key] = [fd, 1]
        self._key = key
        return self

    def _refuse(self, record: dict) -> None:
        note = ''
        if record.get('host') == socket.gethostname() and record.get(
                'pid') is not None and not _pid_alive(record['pid']):
            note = (f' Process {record["pid"]} no longer runs, yet another '
                    'process still holds the lock (a leftover child of it? '
                    f'`fuser -v {self.path}` names it).')
        raise WorkDirLockedError(
            f'work_dir {self.work_dir} is in use: {self.path} is held by '
            f'{describe_holder(record)}.{note} {self.what[0].upper()}'
            f'{self.what[1:]} would write into the same files. Wait for it '
            'to end, or give this one its own directory (--work-dir DIR).',
            record)

    def release(self) -> None:
        key, self._key = self._key, None
        if key is None or key not in _HELD:
            return
        entry = _HELD[key]
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _HELD[key]
        fd = entry[0]
        try:
            # remove while holding it (a waiting process re-checks the inode)
            if osp.exists(self.path) and \
                    os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                os.remove(self.path)
        except OSError:
            pass
        os.close(fd)

    @property
    def held(self) -> bool:
        return self._key is not None

    def __enter__(self) -> 'WorkDirLock':
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def distributed_rank(launcher: Optional[str] = None) -> int:
    """This process's global rank from the launcher's environment (before
    any process group exists): torchrun's ``RANK``, slurm's
    ``SLURM_PROCID``, Open MPI's ``OMPI_COMM_WORLD_RANK``; 0 otherwise."""
    for key in ('RANK',) + (('SLURM_PROCID',) if launcher == 'slurm' else
                            ()) + (('OMPI_COMM_WORLD_RANK',)
                                   if launcher == 'mpi' else ()):
        if os.environ.get(key, '') != '':
            return int(os.environ[key])
    return 0


__all__ = ['RUN_LOCK', 'SWEEP_LOCK', 'NO_LOCK_ENV', 'WorkDirLock',
           'WorkDirLockedError', 'holder', 'describe_holder',
           'distributed_rank']
