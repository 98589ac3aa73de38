"""What a session client tells the app beyond the sandbox's own events. Stdlib only.

``SessionClient`` passes these to ``on_event``, beside ``WorkerStateChanged`` and
``ResourcesMeasured``. A client without sessions never sends them, so a UI that knows
nothing of sessions keeps working.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkChanged:
    """The link to the session host changed. ``state``: "connecting", "attached",
    "reconnecting" (lost; trying again, the cell goes on over there), "detached" (we
    left, or another tutor took over), "lost" (gave up). ``where``: "" for this
    machine, else the remote host's name."""

    state: str
    reason: str | None
    where: str


@dataclass(frozen=True)
class SessionAttached:
    """Attached to a host. ``resumed``: it already ran things for an earlier app (its
    cells follow as ``CellReplayed``). ``notes``: what that app left for the next one.
    ``news``: what happened while no app was attached (the worker died), or None.
    ``reconnected``: this client was attached before (the link dropped, or fell behind)."""

    lesson_id: str
    title: str  # what listings call the lesson ("03")
    host_pid: int
    started: float
    resumed: bool
    running: str | None
    notes: dict
    news: str | None
    where: str
    reconnected: bool = False  # this client was attached before (the link dropped)


@dataclass(frozen=True)
class CellReplayed:
    """An event of a request this client did not start (an earlier app did, or this app
    before it restarted). ``tag`` is what that app passed to ``execute``."""

    ref: str
    label: str
    tag: dict
    event: object


@dataclass(frozen=True)
class OutputDropped:
    """Catching up after a long absence: this many lines of a cell's output are gone
    (the host's buffer was full). The cell's events already include a line saying so."""

    lines: int


@dataclass(frozen=True)
class HostBusy:
    """Another tutor is attached to the session: who, since when (epoch seconds)."""

    who: str
    since: float
    where: str
