"""Crash-safe file writing: a file appears complete or not at all."""
import os
import os.path as osp
import tempfile
import zipfile


def fsync_dir(directory: str) -> None:
    """Make a rename in ``directory`` durable (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_path_for(path: str) -> str:
    """A fresh hidden temporary name in ``path``'s directory (same file
    system, so the final rename is atomic).

    ``mkstemp`` creates the file with mode 0600; it gets the mode ``open``
    would give a new file (0666 minus the umask, 0644 usually), as
    mmengine's own checkpoints have, so colleagues sharing a cluster can
    read the checkpoints and results.
    """
    directory = osp.dirname(osp.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.',
                               suffix='.tmp', dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    return tmp


def commit(tmp: str, path: str) -> None:
    """fsync ``tmp``, rename it over ``path`` and fsync the directory."""
    with open(tmp, 'rb+') as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(osp.dirname(osp.abspath(path)))


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = temp_path_for(path)
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
        commit(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def is_complete_checkpoint(path: str) -> bool:
    """Cheap structural check of a ``torch.save`` file (a zip archive): it
    exists and its central directory, written last, is readable (a
    truncated file is not). It reads no data: damaged bytes inside the file
    pass; :func:`mbcd_mmaction.engine.runner.integrity.checkpoint_problem`
    checks the data (what every load does)."""
    if not path or not osp.isfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return any(n.endswith('data.pkl') for n in z.namelist())
    except (zipfile.BadZipFile, OSError, EOFError):
        return False
