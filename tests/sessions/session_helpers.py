"""Helpers for session tests: run a cell through any client, find a session host's
processes, wait for things, check that nothing is left behind."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tutor.sandbox import proctree
from tutor.sandbox.events import CellFinished, OutputStreamed
from tutor.sessions import places

HERE = Path(__file__).resolve().parent
FAKE_SSH = [sys.executable, str(HERE / "fake_ssh.py")]
REPO = HERE.parents[1]


@dataclass
class Cell:
    events: list = field(default_factory=list)

    @property
    def finished(self) -> CellFinished:
        last = self.events[-1]
        assert isinstance(last, CellFinished), self.events
        return last

    @property
    def status(self) -> str:
        return self.finished.status

    @property
    def text(self) -> str:
        return "".join(e.text for e in self.events if isinstance(e, OutputStreamed))


async def run(client, code: str, **kwargs) -> Cell:
    cell = Cell()
    async for event in client.execute(code, **kwargs):
        cell.events.append(event)
    return cell


async def until(predicate, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.02)


def runtime_dir_of(home: Path) -> Path:
    """Where a tutor whose TUTOR_HOME is ``home`` keeps its sessions."""
    saved = os.environ.get("TUTOR_HOME")
    os.environ["TUTOR_HOME"] = str(home)
    try:
        return places.runtime_dir()
    finally:
        if saved is None:
            del os.environ["TUTOR_HOME"]
        else:
            os.environ["TUTOR_HOME"] = saved


def host_family(pid: int) -> set[int]:
    """A host and every process under it (nanny, worker, what learner code started)."""
    if not proctree.alive(pid):
        return set()
    return {pid, *proctree.descendants(pid)}


def session_processes() -> set[int]:
    """Every live process of every session host of this test's runtime folder."""
    pids: set[int] = set()
    for session in places.list_sessions():
        pids |= host_family(session.pid)
    return pids


def hosts_of_home(home: Path) -> set[int]:
    """Live session hosts whose TUTOR_HOME is ``home``, found in /proc whatever folder
    their sockets are in (a leak check that does not trust the listing)."""
    found = set()
    for pid in proctree.all_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"tutor.sessions.host" not in f.read():
                    continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if f"TUTOR_HOME={home}".encode() in environ and proctree.alive(pid):
            found.add(pid)
    return found


def assert_gone(pids: set[int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        alive = {pid for pid in pids if proctree.alive(pid)}
        if not alive:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"left behind: {sorted(alive)}")
        time.sleep(0.05)


def child_environment(**extra: str) -> dict[str, str]:
    """The environment for a subprocess that must import this tree's tutor."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env
