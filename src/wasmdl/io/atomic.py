"""Atomic file writes: the previous file survives any failure of a save.

``atomic_write(path, data)`` writes ``data`` (bytes, or a callable that writes to the open file
object) to a temporary file in the same folder, flushes and fsyncs it, then renames it over
``path`` (``os.replace``: atomic on POSIX and Windows, and in Pyodide's file systems). If
anything fails before the rename (disk full, an exception in the writer, the process killed),
``path`` still holds its previous content and the temporary file is removed (or, after a kill,
left as a hidden ``.<name>.*.tmp`` beside it, never in its place).

Example:
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "model.wasmdl")
    >>> atomic_write(path, b"first")
    >>> atomic_write(path, lambda f: f.write(b"second"))
    >>> open(path, "rb").read(), sorted(os.listdir(folder))
    (b'second', ['model.wasmdl'])
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile

_fdopen = os.fdopen  # the file object the data goes through (tests replace it to inject faults)
_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.ENOSYS}


def _fsync(fd: int) -> None:
    """fsync, tolerating file systems (pipes, some virtual ones) that cannot sync."""
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in _UNSUPPORTED:
            raise


def _mode_for(path: str) -> int:
    """The new file's permissions: the old file's, else what ``open(path, 'wb')`` would give."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return (0o666 & ~umask) | 0o600  # owner read/write always (Emscripten's umask is odd)


def atomic_write(path, data) -> None:
    """Replace ``path`` with ``data`` (bytes-like, or ``writer(file)``): all of it or nothing."""
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with _fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            f.flush()
            _fsync(f.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _sync_folder(folder)


def _sync_folder(folder: str) -> None:
    """Persist the rename itself (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        _fsync(fd)
    finally:
        os.close(fd)
