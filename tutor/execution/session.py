"""One lesson's worker as the app sees it: the client, its last reported state, and what
the current worker holds (a :class:`WorkerMemory`), plus the words the status line
shows for it. No UI here.

A *generation* is one life of the worker process: it changes when the worker starts
again (restart, crash, a kill after an interrupt), and the worker's memory is forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tutor.execution.executor import WorkerMemory
from tutor.sandbox.events import (
    CellFinished,
    ResourcesMeasured,
    WarmupChanged,
    WorkerInfo,
    WorkerState,
    WorkerStateChanged,
)
from tutor.sandbox.limits import format_share, format_size

_FRESH_STATES = (WorkerState.STARTING, WorkerState.RESTARTING, WorkerState.CRASHED, WorkerState.STOPPED)


@dataclass
class SandboxSession:
    lesson_id: str
    client: object  # tutor.sandbox.client.SandboxClient (or a test double of it)
    state: WorkerState = WorkerState.STARTING
    reason: str | None = None
    info: WorkerInfo | None = None
    resources: ResourcesMeasured | None = None
    generation: int = 0
    running_label: str | None = None  # e.g. "cell 3", set by the lesson screen
    memory: WorkerMemory = field(default_factory=WorkerMemory)
    warmup: str | None = None  # the worker's background warm-up: "warming", "warm", "failed"
    where: str = ""  # the remote machine the worker runs on ("" for this one)
    link: str | None = None  # the link to a session host, when it is not plainly up
    replayed: list = field(default_factory=list)  # CellReplayed events no screen has shown yet

    def observe(self, event) -> None:
        """Take in a worker event (state, resources), a finished cell, or news of the
        link to a session host (tutor.sessions.events)."""
        from tutor.sessions.events import CellReplayed, LinkChanged, SessionAttached

        if isinstance(event, SessionAttached):
            if event.notes:  # what an earlier app noted of this same worker
                self.memory.restore(event.notes)
        elif isinstance(event, LinkChanged):
            self.where = event.where
            self.link = None if event.state in ("attached", "connecting") else (event.reason or event.state)
        elif isinstance(event, CellReplayed):
            self.replayed.append(event)
        elif isinstance(event, WorkerStateChanged):
            if event.state in _FRESH_STATES and self.state not in _FRESH_STATES:
                self._new_generation()
            running = (WorkerState.RUNNING, WorkerState.INTERRUPTING)
            if self.state in running and event.state not in running:
                # (not on a worker that becomes ready after the run was asked for: it runs next)
                self.running_label = None
            self.state = event.state
            self.reason = event.reason
            if event.info is not None:
                self.info = event.info
        elif isinstance(event, ResourcesMeasured):
            self.resources = event
        elif isinstance(event, WarmupChanged):
            self.warmup = event.state
        elif isinstance(event, CellFinished) and event.state_lost:
            self._new_generation()

    def _new_generation(self) -> None:
        self.generation += 1
        self.memory.forget()
        self.resources = None
        self.warmup = None


# -- words for the status line --------------------------------------------------------


def device_text(session: SandboxSession | None) -> str:
    """``CUDA 0 · NVIDIA H100 · 2.9/79.2 GiB``, ``MPS · Apple M2``, ``CPU``, or ``device: …``;
    on a remote machine its name comes first: ``gpu-box · CUDA 0 · H100 · 3.1/80.0 GiB``."""
    where = f"{session.where} · " if session is not None and session.where else ""
    return where + _device(session)


def _device(session: SandboxSession | None) -> str:
    info = session.info if session else None
    if info is None:
        return "device: …"
    device = info.device or "cpu"
    if device.startswith("cuda"):
        index = device.partition(":")[2] or "0"
        parts = [f"CUDA {index}"]
        if info.device_name:
            parts.append(info.device_name)
        res = session.resources if session else None
        if info.gpu_total:
            used = res.gpu_reserved if res and res.gpu_reserved is not None else (res.gpu_allocated if res else None)
            parts.append(format_share(used or 0, info.gpu_total))
        return " · ".join(parts)
    if device.startswith("mps"):
        return "MPS" + (f" · {info.device_name}" if info.device_name else "")
    return "CPU"


def state_text(session: SandboxSession | None) -> str:
    """The worker's state in a few words, e.g. ``running cell 3``."""
    if session is None:
        return "no worker"
    if session.link:
        return session.link
    state = session.state
    if state is WorkerState.RUNNING:
        return f"running {session.running_label}" if session.running_label else "running"
    if state is WorkerState.CRASHED:
        return f"crashed: {session.reason}" if session.reason else "crashed"
    if state is WorkerState.STARTING:
        return "starting…"
    if state is WorkerState.INTERRUPTING:
        return session.reason or "interrupting… (again: stop the worker now)"
    if state is WorkerState.RESTARTING:
        return "restarting…"
    if state is WorkerState.STOPPED:
        return "stopped"
    if session.warmup == "warming":  # cells run meanwhile; the first training step is slower
        on_gpu = session.info is not None and (session.info.device or "").startswith("cuda")
        return "ready · warming GPU" if on_gpu else "ready · warming up"
    return "ready"


def memory_text(session: SandboxSession | None) -> str:
    res = session.resources if session else None
    if res is None:
        return ""
    limit = f" / {format_size(res.limit)}" if res.limit else ""
    return f"RAM {format_size(res.rss)}{limit}"
