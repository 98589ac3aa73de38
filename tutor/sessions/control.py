"""Ending sessions from outside (``tutor sessions --stop``): ask the host over its
socket, then make sure it is gone. Stdlib only, blocking.
"""

from __future__ import annotations

import os
import signal
import socket
import time

from tutor.sessions import places
from tutor.sessions.link import Channel, FrameDecoder, LinkError, encode, greeting, parse_greeting

ASK_TIMEOUT = 5.0


def ask(paths: places.SessionPaths, message: dict, timeout: float = ASK_TIMEOUT) -> dict | None:
    """Send one session request to a live host; its answer, or None if none came."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(str(paths.socket))
        sock.sendall(greeting("control") + encode(Channel.SESSION, message))
        buffer = b""
        while b"\n" not in buffer:
            data = sock.recv(4096)
            if not data:
                return None
            buffer += data
        line, _, rest = buffer.partition(b"\n")
        parse_greeting(line)
        decoder = FrameDecoder()
        frames = decoder.feed(rest)
        while not frames:
            data = sock.recv(65536)
            if not data:
                return None
            frames = decoder.feed(data)
        return frames[0].message
    except (OSError, LinkError):
        return None
    finally:
        sock.close()


def stop(paths: places.SessionPaths, timeout: float = 10.0) -> bool:
    """End one session; True once its host is gone (asked, then SIGTERM, then SIGKILL)."""
    info = places.SessionInfo.read(paths)
    ask(paths, {"t": "stop"})
    if _gone(paths, timeout):
        return True
    if info is None:
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if places.host_alive(paths):  # the lock says the pid is still that host's
            try:
                os.kill(info.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        if _gone(paths, 5.0):
            places.remove_leftovers(paths)
            return True
    return False


def _gone(paths: places.SessionPaths, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while places.host_alive(paths):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_sessions(which: str, folder=None) -> tuple[list[str], list[str]]:
    """Stop the session ``which`` (its id, its lesson's id or number, or "all"):
    (sessions stopped, problems)."""
    sessions = places.list_sessions(folder)
    if which == "all":
        chosen = sessions
    else:
        chosen = [s for s in sessions if which in (s.session_id, s.lesson_id, s.title, s.paths.name)]
        if not chosen:
            return [], [f"no session '{which}' runs (tutor sessions lists them)"]
    stopped, problems = [], []
    for session in chosen:
        if stop(session.paths):
            stopped.append(session.session_id)
        else:
            problems.append(f"the session {session.session_id} (pid {session.pid}) did not stop")
    return stopped, problems


def session_list(remote: str | None = None, *, ssh_command: str | None = None,
                 remote_python: str | None = None, timeout: float = 60.0) -> list[dict]:
    """The live sessions (``SessionInfo.as_dict()``), here or on ``remote`` through ssh.
    Raises SessionUnavailable with one plain line when the remote cannot say."""
    if remote is None:
        return [session.as_dict() for session in places.list_sessions()]
    import json

    from tutor.sandbox.sanitize import sanitize
    from tutor.sessions.transport import SessionUnavailable, run_remote

    out = run_remote(remote, ["tutor.sandbox.remote", "sessions"], ssh_command=ssh_command,
                     remote_python=remote_python, timeout=timeout)
    try:
        listed = json.loads(out.strip().splitlines()[-1])
        if not isinstance(listed, list) or not all(isinstance(s, dict) and "lesson" in s and "pid" in s
                                                   for s in listed):
            raise ValueError
    except (ValueError, IndexError):
        raise SessionUnavailable(f"{remote} answered something that is not a list of sessions") from None
    return [{k: sanitize(v) if isinstance(v, str) else v for k, v in s.items()} for s in listed]
