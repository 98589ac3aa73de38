"""Processes from /proc: descendants, memory, and killing a whole tree. Stdlib only.

Used by the nanny (supervision) and by tests (nothing left behind). Where /proc is
missing (macOS) the functions see nothing and the process-group kill does the work.
"""

from __future__ import annotations

import os
import signal
import time



def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name: [state, ppid, pgrp, session, ...]."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2:].decode("ascii", "replace").split()


def all_pids() -> list[int]:
    try:
        return [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return []


def parents() -> dict[int, int]:
    """pid -> ppid for every live (non-zombie) process."""
    table = {}
    for pid in all_pids():
        fields = _stat_fields(pid)
        if fields and fields[0] not in ("Z", "X"):
            table[pid] = int(fields[1])
    return table


def descendants(root: int, table: dict[int, int] | None = None) -> list[int]:
    """Live descendants of ``root`` (not root itself)."""
    table = parents() if table is None else table
    children: dict[int, list[int]] = {}
    for pid, ppid in table.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


def alive(pid: int) -> bool:
    fields = _stat_fields(pid)
    return bool(fields) and fields[0] not in ("Z", "X")


def in_session_or_group(ids: set[int]) -> list[int]:
    """Live processes whose session or process group is one of ``ids``."""
    found = []
    for pid in all_pids():
        fields = _stat_fields(pid)
        if fields and fields[0] not in ("Z", "X") and (int(fields[2]) in ids or int(fields[3]) in ids):
            found.append(pid)
    return found


def outer_pid(root: int, inner: int) -> int | None:
    """The pid, as we see it, of the descendant of ``root`` that calls itself
    ``inner`` inside its PID namespace."""
    for pid in descendants(root):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        if line.split()[-1] == str(inner):
                            return pid
                        break
        except OSError:
            continue
    return None


def counted_rss(pid: int) -> int:
    """Resident memory the limit counts, cheap: anonymous pages plus shared memory
    (``MAP_SHARED``, mapped /dev/shm files and memfds), not pages of files on disk."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            data = f.read()
    except OSError:
        return 0
    total = 0
    for key in (b"\nRssAnon:", b"\nRssShmem:"):
        start = data.find(key)
        if start >= 0:
            try:
                total += int(data[start + len(key):data.index(b"kB", start)]) * 1024
            except ValueError:
                pass
    return total


def counted_pss(pid: int) -> int:
    """The same as proportional set size: pages shared after fork (or between mappers
    of one shared segment) count once in total. About 20 ms a process: only to confirm
    what ``counted_rss`` suggests."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            data = f.read()
    except OSError:
        return counted_rss(pid)
    values = {}
    for line in data.splitlines():
        key, _, rest = line.partition(b":")
        if key in (b"Pss", b"Pss_Anon", b"Pss_Shmem"):
            values[key] = int(rest.split()[0]) * 1024
    if b"Pss_Anon" in values:
        return values[b"Pss_Anon"] + values.get(b"Pss_Shmem", 0)
    return values.get(b"Pss", 0)


def reap_children() -> list[tuple[int, int]]:
    """Collect every exited child of this process: [(pid, wait status)]."""
    reaped = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == 0:
            break
        reaped.append((pid, status))
    return reaped


def kill_all(find, *, timeout: float = 5.0, reap: bool = True, on_reaped=None) -> bool:
    """SIGKILL whatever ``find()`` returns until it returns nothing (new children of
    a fork bomb included). With ``reap`` (the nanny: they are all ours), reap our
    children meanwhile; never in the client, whose other children are not ours to
    reap. True when all are gone."""
    deadline = time.monotonic() + timeout
    while True:
        pids = find()
        if not pids:
            return True
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for reaped in (reap_children() if reap else ()):
            if on_reaped:
                on_reaped(*reaped)
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
