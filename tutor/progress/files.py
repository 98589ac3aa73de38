"""The progress file on disk: an advisory lock, atomic writes, and backups of bad files."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

try:  # POSIX; the fallback below covers the rest
    import fcntl
except ImportError:  # pragma: no cover - exercised by forcing the fallback in tests
    fcntl = None  # type: ignore[assignment]

LOCK_TIMEOUT = 10.0
STALE_LOCK_AGE = 30.0  # seconds before an exclusive-create lock file is taken as abandoned
TEMP_PREFIX = ".progress-"


@contextlib.contextmanager
def file_lock(lock_path: Path, timeout: float | None = None) -> Iterator[bool]:
    """Hold an advisory lock on ``lock_path``; yields whether it was obtained in time
    (if not, the caller goes on unlocked rather than hang)."""
    deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
    with contextlib.suppress(OSError):
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    locker = _flock if fcntl is not None else _exclusive_file_lock
    with locker(lock_path, deadline) as locked:
        yield locked


@contextlib.contextmanager
def _flock(lock_path: Path, deadline: float) -> Iterator[bool]:
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield False
        return
    try:
        locked = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
            except OSError:  # a file system without flock
                break
        yield locked
    finally:
        os.close(fd)  # closing releases the flock


@contextlib.contextmanager
def _exclusive_file_lock(lock_path: Path, deadline: float) -> Iterator[bool]:
    """Where fcntl is missing: whoever creates ``<lock>.held`` holds the lock. One left
    by a killed process is taken over once it is older than STALE_LOCK_AGE."""
    held = lock_path.with_name(lock_path.name + ".held")
    locked = False
    while not locked:
        try:
            fd = os.open(held, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - held.stat().st_mtime > STALE_LOCK_AGE:
                    held.unlink()
                    continue
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        except OSError:
            break
        else:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            locked = True
    try:
        yield locked
    finally:
        if locked:
            with contextlib.suppress(OSError):
                held.unlink()


def write_atomically(path: Path, text: str | Iterable[str], *, prefix: str = TEMP_PREFIX) -> None:
    """Write ``text`` (a string, or its pieces in order) so that ``path`` holds either
    the old or the new content, never a mix: a temp file (named ``prefix``...) is
    written, fsynced, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            if isinstance(text, str):
                out.write(text)
            else:
                out.writelines(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def backup_name(path: Path, tag: str, now: float) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    candidate = path.with_name(f"{path.name}.{tag}-{stamp}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{tag}-{stamp}-{n}")
        n += 1
    return candidate
