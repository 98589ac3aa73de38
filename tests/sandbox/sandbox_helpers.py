"""Helpers for sandbox tests: run a cell and collect its events, find a client's
processes, check that nothing is left behind."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tutor.sandbox import proctree
from tutor.sandbox.client import SandboxClient
from tutor.sandbox.events import (
    CellFailed, CellFinished, CellStarted, ImagesShown, MetricsLogged, OutputCapped, OutputStreamed,
    PlotUpdated, WorkerState, WorkerStateChanged,
)

FAKE_WORKER = [sys.executable, str(Path(__file__).resolve().parents[1] / "fakes" / "fake_worker.py")]


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
    def reason(self) -> str | None:
        return self.finished.reason

    def text(self, name: str | None = None) -> str:
        return "".join(e.text for e in self.events if isinstance(e, OutputStreamed) and (name is None or e.name == name))

    @property
    def stdout(self) -> str:
        return self.text("stdout")

    @property
    def stderr(self) -> str:
        return self.text("stderr")

    @property
    def failure(self) -> CellFailed | None:
        return next((e for e in self.events if isinstance(e, CellFailed)), None)

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]


async def run(client: SandboxClient, code: str, **kwargs) -> Cell:
    cell = Cell()
    async for event in client.execute(code, **kwargs):
        cell.events.append(event)
    return cell


def family(client: SandboxClient) -> set[int]:
    """The client's child and all its descendants, as pids of this namespace, plus
    every process in their sessions and process groups."""
    root = client.supervisor_pid
    assert root is not None
    table = proctree.parents()
    pids = {root, *proctree.descendants(root, table)}
    groups = set()
    for pid in pids:
        fields = proctree._stat_fields(pid)
        if fields:
            groups.update((int(fields[2]), int(fields[3])))
    return pids | set(proctree.in_session_or_group(groups))


def assert_gone(pids: set[int], timeout: float = 5.0) -> None:
    """Every one of ``pids`` exits within ``timeout`` (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = {pid for pid in pids if proctree.alive(pid)}
        if not alive:
            return
        if time.monotonic() > deadline:
            names = {pid: _cmdline(pid) for pid in alive}
            raise AssertionError(f"left behind: {names}")
        time.sleep(0.05)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")[:120]
    except OSError:
        return "?"


class StateLog:
    """Records WorkerStateChanged events (on_event)."""

    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)

    @property
    def states(self) -> list[WorkerState]:
        return [e.state for e in self.events if isinstance(e, WorkerStateChanged)]

    def reasons(self, state: WorkerState) -> list[str | None]:
        return [e.reason for e in self.events if isinstance(e, WorkerStateChanged) and e.state is state]


async def wait_state(client: SandboxClient, *states: WorkerState, timeout: float = 30.0) -> None:
    import asyncio

    deadline = time.monotonic() + timeout
    while client.state not in states:
        if time.monotonic() > deadline:
            raise AssertionError(f"state is {client.state}, waited for {states} ({client.reason})")
        await asyncio.sleep(0.02)
