"""RAM held in files: what the memory limit must count beyond process memory. Stdlib only.

Pages of shared memory that a process maps (``MAP_SHARED``, a mapped ``/dev/shm``
file, a mapped ``memfd``) show in its ``RssShmem`` (tutor.sandbox.proctree). A file on
a tmpfs (``/dev/shm``, a tmpfs ``/tmp``) that was written but is not mapped is RAM too,
and it outlives the process. The nanny counts, for the worker's tree:

- tmpfs files and memfds the tree holds open (``/proc/PID/fd``);
- files that appeared on the usual tmpfs folders since the worker started (``/dev/shm``,
  ``/tmp``, ``/var/tmp``, ``/run/user/UID`` when they are tmpfs), owned by the worker's
  user. Files that were there before the worker started never count.

A file also mapped by the tree is counted once (``exclude``: the inodes of mappings).
What it cannot see: SysV shared memory left behind unattached, and files on other
tmpfs mounts; docs/sandbox.md says so.
"""

from __future__ import annotations

import os
import stat

FOLDERS = ("/dev/shm", "/tmp", "/var/tmp")
MAX_ENTRIES = 5000  # a walk of the folders stops after this many entries


def tmpfs_mounts() -> dict[str, int]:
    """Mount point -> device number of every tmpfs mount."""
    mounts = {}
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                dash = fields.index("-")
                if fields[dash + 1] == "tmpfs":
                    point = fields[4].replace("\\040", " ")
                    major, minor = fields[2].split(":")
                    mounts[point] = os.makedev(int(major), int(minor))
    except (OSError, ValueError, IndexError):
        pass
    return mounts


def folders(uid: int) -> list[str]:
    """The folders to watch: the usual ones that are tmpfs mount points here."""
    mounts = tmpfs_mounts()
    return [f for f in (*FOLDERS, f"/run/user/{uid}") if f in mounts]


def _walk(folder: str, budget: list[int]):
    try:
        entries = os.scandir(folder)
    except OSError:
        return
    with entries:
        for entry in entries:
            budget[0] -= 1
            if budget[0] < 0:
                return
            try:
                if entry.is_dir(follow_symlinks=False):
                    yield from _walk(entry.path, budget)
                elif entry.is_file(follow_symlinks=False):
                    yield entry.path, entry.stat(follow_symlinks=False)
            except OSError:
                continue


def files_in(paths: list[str], uid: int | None = None) -> dict[tuple[int, int], tuple[str, int]]:
    """(device, inode) -> (path, bytes in RAM) of the regular files under ``paths``."""
    found = {}
    budget = [MAX_ENTRIES]
    for folder in paths:
        for path, info in _walk(folder, budget):
            if uid is None or info.st_uid == uid:
                found[(info.st_dev, info.st_ino)] = (path, info.st_blocks * 512)
    return found


def open_files(pids: list[int], devices: set[int]) -> dict[tuple[int, int], tuple[str, int]]:
    """Files on a tmpfs, and memfds, that these processes hold open."""
    found = {}
    for pid in pids:
        folder = f"/proc/{pid}/fd"
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            path = f"{folder}/{name}"
            try:
                target = os.readlink(path)
                if not (target.startswith("/memfd:") or target.startswith("/")):
                    continue  # pipes, sockets, anon inodes
                info = os.stat(path)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and (info.st_dev in devices or target.startswith("/memfd:")):
                found[(info.st_dev, info.st_ino)] = (target, info.st_blocks * 512)
    return found


def mapped_inodes(pids: list[int]) -> set[tuple[int, int]]:
    """(device, inode) of every file mapping of these processes (counted in RssShmem)."""
    found = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/maps", "rb") as f:
                for line in f:
                    fields = line.split(None, 5)
                    if len(fields) >= 5 and fields[4] != b"0":
                        major, minor = fields[3].split(b":")
                        found.add((os.makedev(int(major, 16), int(minor, 16)), int(fields[4])))
        except (OSError, ValueError):
            continue
    return found


class TmpfsWatch:
    """The RAM in tmpfs files that the worker's tree made or holds, since ``start``."""

    def __init__(self, uid: int | None = None) -> None:
        self.uid = os.getuid() if uid is None else uid
        self.mounts = tmpfs_mounts()
        self.folders = folders(self.uid)
        self.devices = set(self.mounts.values())
        self.before = set(files_in(self.folders))  # never counted: they were there first

    def files(self, pids: list[int]) -> dict[tuple[int, int], tuple[str, int]]:
        found = {key: value for key, value in files_in(self.folders, self.uid).items() if key not in self.before}
        found.update(open_files(pids, self.devices))
        return found

    def measure(self, pids: list[int], *, exclude_mapped: bool = False) -> tuple[int, list[str]]:
        """(bytes, paths). ``exclude_mapped``: leave out files the tree maps (their
        pages are in RssShmem already); slower, for confirming a kill."""
        found = self.files(pids)
        if exclude_mapped and found:
            mapped = mapped_inodes(pids)
            found = {key: value for key, value in found.items() if key not in mapped}
        total = sum(size for _, size in found.values())
        paths = [path for path, size in sorted(found.values(), key=lambda item: -item[1]) if size]
        return total, paths
