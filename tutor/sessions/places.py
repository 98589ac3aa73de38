"""Where sessions live: a private folder with, per lesson, the host's socket, its lock
and a session file. Stdlib only.

The folder is ``$TUTOR_RUNTIME_DIR``, else ``<TUTOR_HOME>/run`` when TUTOR_HOME is set,
else ``$XDG_RUNTIME_DIR/tutor``, else ``<tutor home>/run``; when a socket path there
would be too long for the system (about 100 bytes), a folder under the temp folder
named for the user and that place. It is made mode 0700 and must belong to us; each
socket is mode 0600 and the host also checks the peer's uid (SO_PEERCRED), so only
the same user can attach. The lock (``flock``) is held by the live host for its whole
life: a host that died, however it died, holds none, which is how stale sockets and
session files are told from live ones.

A session file says what the listing shows (lesson, state, what runs since when, the
host's pid and device). It holds no secret: anyone who can read it can already reach
the socket.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import re
import socket
import stat
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ENV_RUNTIME = "TUTOR_RUNTIME_DIR"
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS


class SessionPlaceError(Exception):
    """The runtime folder cannot be used safely (not ours, not private)."""


def runtime_dir() -> Path:
    """The folder for this user's session sockets (not created here)."""
    override = os.environ.get(ENV_RUNTIME)
    if override:
        base = Path(override).expanduser()
    elif os.environ.get("TUTOR_HOME"):
        base = _home() / "run"
    else:
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        base = Path(xdg) / "tutor" if xdg and _is_private(Path(xdg)) else _home() / "run"
    if len(os.fsencode(str(base))) + 48 > MAX_SOCKET_PATH:
        digest = hashlib.sha1(os.fsencode(str(base))).hexdigest()[:10]
        base = Path(tempfile.gettempdir()) / f"tutor-{os.getuid()}-{digest}"
    return base


def _home() -> Path:
    from tutor.config import home_dir

    return home_dir()


def _is_private(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077


def ensure_runtime_dir() -> Path:
    """The runtime folder, made if needed; SessionPlaceError if it is not ours alone."""
    path = runtime_dir()
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = path.lstat()
    except OSError as err:
        raise SessionPlaceError(f"cannot make the session folder {path}: {err.strerror}") from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise SessionPlaceError(f"the session folder {path} is not a folder of yours")
    if info.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)
        except OSError as err:
            raise SessionPlaceError(f"cannot make {path} private: {err.strerror}") from None
    return path


def session_name(lesson_id: str) -> str:
    """A file name for a lesson's session: the id itself when it is tame."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", lesson_id)[:40].lstrip(".") or "lesson"
    if name != lesson_id:
        name += "-" + hashlib.sha1(lesson_id.encode("utf-8")).hexdigest()[:8]
    return name


@dataclass(frozen=True)
class SessionPaths:
    """The files of one lesson's session."""

    folder: Path
    name: str

    @classmethod
    def of(cls, lesson_id: str, folder: Path | None = None) -> "SessionPaths":
        return cls(folder or runtime_dir(), session_name(lesson_id))

    @property
    def socket(self) -> Path:
        return self.folder / f"{self.name}.sock"

    @property
    def lock(self) -> Path:
        return self.folder / f"{self.name}.lock"

    @property
    def info(self) -> Path:
        return self.folder / f"{self.name}.json"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"


# -- the lock: held by the live host ------------------------------------------------


def take_lock(paths: SessionPaths) -> int | None:
    """An fd holding the session's lock, or None when a live host holds it."""
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


def host_alive(paths: SessionPaths) -> bool:
    """Whether a live host holds the session (a probe: takes and drops the lock)."""
    if not paths.lock.exists():
        return False
    fd = take_lock(paths)
    if fd is None:
        return True
    os.close(fd)
    return False


def remove_leftovers(paths: SessionPaths) -> None:
    """Remove a dead host's socket and session file (call while holding the lock)."""
    for path in (paths.socket, paths.info):
        try:
            path.unlink()
        except FileNotFoundError:
            pass


# -- the socket ----------------------------------------------------------------------


def listen(paths: SessionPaths) -> socket.socket:
    """A listening Unix socket, mode 0600 (the folder is 0700 too)."""
    try:
        paths.socket.unlink()
    except FileNotFoundError:
        pass
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        old_mask = os.umask(0o177)  # the host is single-threaded here: the mask is ours alone
        try:
            server.bind(str(paths.socket))
        finally:
            os.umask(old_mask)
        os.chmod(paths.socket, 0o600)
        server.listen(8)
    except BaseException:
        server.close()
        raise
    return server


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a Unix socket, or None if unknown."""
    if hasattr(socket, "SO_PEERCRED"):
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return struct.unpack("3i", creds)[1]
    if sys.platform == "darwin":  # LOCAL_PEERCRED: struct xucred {u_int version; uid_t uid; ...}
        try:
            creds = sock.getsockopt(0, 0x001, struct.calcsize("2I16Ih"))
            return struct.unpack_from("2I", creds)[1]
        except OSError:
            return None
    return None


# -- the session file ----------------------------------------------------------------


def write_info(paths: SessionPaths, info: dict) -> None:
    """Atomically replace the session file (mode 0600)."""
    data = json.dumps(info, ensure_ascii=False, indent=1).encode("utf-8")
    fd, temp = tempfile.mkstemp(dir=paths.folder, prefix=f".{paths.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.close(fd)
        os.replace(temp, paths.info)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


@dataclass(frozen=True)
class SessionInfo:
    """One live session as the listing shows it."""

    session_id: str
    lesson_id: str
    title: str
    pid: int
    started: float
    state: str  # "idle", "running", "crashed" (the worker died while no app was attached)
    running: str | None  # what runs, e.g. "training"
    since: float | None  # when that began (or the state, for "crashed")
    attached: bool
    device: str
    reason: str | None
    paths: SessionPaths

    @classmethod
    def read(cls, paths: SessionPaths) -> "SessionInfo | None":
        try:
            data = json.loads(paths.info.read_text(encoding="utf-8"))
            return cls(str(data.get("session") or data["lesson"]), str(data["lesson"]),
                       str(data.get("title") or data["lesson"]), int(data["pid"]),
                       float(data["started"]), str(data.get("state") or "idle"),
                       data.get("running") if isinstance(data.get("running"), str) else None,
                       float(data["since"]) if isinstance(data.get("since"), (int, float)) else None,
                       bool(data.get("attached")), str(data.get("device") or ""),
                       data.get("reason") if isinstance(data.get("reason"), str) else None, paths)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def as_dict(self) -> dict:
        """What ``tutor sessions --json`` (here or through ssh) prints."""
        return {"session": self.session_id, "lesson": self.lesson_id, "title": self.title, "pid": self.pid,
                "started": self.started, "state": self.state, "running": self.running, "since": self.since,
                "attached": self.attached, "device": self.device, "reason": self.reason}

    def describe(self, now: float | None = None) -> str:
        """This session's line in the listing (:func:`listing_line`)."""
        return listing_line(self.title, self.state, self.running, self.since, now)


def listing_line(title: str, state: str | None, running: str | None, since: float | None,
                 now: float | None = None) -> str:
    """``03 · running “training”, 2 min ago``, ``03 · crashed, 2.0 h ago`` or ``03 · idle``
    (plain words, no colours): one session in ``tutor sessions``."""
    if running:
        what = f"running “{running}”"
    else:
        what = "crashed" if state == "crashed" else "idle"
    when = f", {ago(since, now)}" if since is not None and (running or state == "crashed") else ""
    return f"{title} · {what}{when}"


def ago(moment: float, now: float | None = None) -> str:
    seconds = max((now if now is not None else time.time()) - moment, 0)
    if seconds < 60:
        return "just now" if seconds < 10 else f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h ago"
    return f"{int(seconds // 86400)} days ago"


def list_sessions(folder: Path | None = None) -> list[SessionInfo]:
    """Live sessions, oldest first; a dead host's leftovers are removed on the way."""
    folder = folder or runtime_dir()
    if not folder.is_dir():
        return []
    found = []
    for info_path in sorted(folder.glob("*.json")):
        paths = SessionPaths(folder, info_path.stem)
        fd = take_lock(paths)
        if fd is not None:  # nobody holds it: the host is gone
            try:
                remove_leftovers(paths)
            finally:
                os.close(fd)
            continue
        info = SessionInfo.read(paths)
        if info is not None:
            found.append(info)
    return sorted(found, key=lambda s: s.started)
