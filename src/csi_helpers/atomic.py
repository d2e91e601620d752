"""The one way the workbook writes a file: never half-written, durable, with the usual mode.

Every file the workbook makes (run-folder artefacts, the manifest, reports, the
demo's exports, a batch's index) is written to a temporary file beside its target
and renamed over it only when complete, so a reader sees the old file or the new
one, never a part. Before the rename the data is flushed to disk (``fsync``), and
after it the folder's entry too, so that a crash or power cut cannot leave an
empty file under the final name. The temporary file is created with mode
``0o666`` less the process's umask, as ``open()`` would create the file itself:
the rename keeps that mode (``tempfile.mkstemp`` would make every file ``0600``).

Example:
    >>> import os, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> old = os.umask(0o022)
    >>> path = write_json(folder / "a.json", {"rows": 3})
    >>> _ = os.umask(old)
    >>> path.read_text(), oct(path.stat().st_mode & 0o777)
    ('{\\n  "rows": 3\\n}\\n', '0o644')
    >>> with atomic_path(folder / "b.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (folder / "b.txt").read_text(), sorted(p.name for p in folder.iterdir())
    ('done', ['a.json', 'b.txt'])
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["PendingFile", "atomic_path", "write_bytes", "write_json", "write_text"]


class PendingFile:
    """A temporary file beside ``target``, moved over it by :meth:`commit`.

    For writers that fill a file over several calls (a Parquet table chunk by
    chunk); a single write is simpler with :func:`atomic_path`. ``suffix`` ends
    the temporary name (a program that picks its format by extension needs
    ``.tmp.pdf``).
    """

    def __init__(self, target: str | Path, *, suffix: str = ".tmp") -> None:
        self.target = Path(target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.path = self.target.with_name(f".{self.target.name}.{uuid.uuid4().hex[:12]}{suffix}")
        # O_EXCL: a fresh file of ours; 0o666: the kernel applies the umask, as open() would.
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))

    def commit(self) -> Path:
        """Flush the file to disk, rename it over the target, make the rename durable."""
        try:
            _fsync(self.path)
            os.replace(self.path, self.target)
        except BaseException:
            self.discard()
            raise
        _fsync_folder(self.target.parent)
        return self.target

    def discard(self) -> None:
        """Remove the temporary file; the target is untouched."""
        self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; moved over ``path`` when the block ends.

    The block writes the temporary file by any means (pandas, pyarrow, a browser);
    on a clean exit it is fsynced and renamed into place, and the folder is fsynced;
    on an error it is removed and ``path`` is untouched.
    """
    pending = PendingFile(path, suffix=suffix)
    try:
        yield pending.path
    except OSError as exc:  # a full disk: named by the file it was for
        pending.discard()
        raise _named(exc, path) from exc
    except BaseException:
        pending.discard()
        raise
    try:
        pending.commit()
    except OSError as exc:
        raise _named(exc, path) from exc


def _named(exc: OSError, path: str | Path) -> OSError:
    """``exc``, with ``path`` as its file when the writer did not say which."""
    if exc.filename or exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror, str(path))


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically; the path."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON (non-JSON values as text) to ``path`` atomically."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    return write_text(path, text + "\n")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable; a platform that cannot open folders (Windows) skips it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
