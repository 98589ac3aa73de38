"""What the sandbox tells its users: facts about cells and the worker.

Stdlib only, frozen dataclasses, named as facts. ``SandboxClient.execute`` yields the
cell events (always ending with ``CellFinished``); ``on_event`` gets the worker events
(``WorkerStateChanged``, ``ResourcesMeasured``, ``WarmupChanged``). Every string in
them that came from the worker is sanitised (tutor.sandbox.decode) before the client
hands them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Union

# How tutor.sandbox.decode.clean sanitises a string field: "block" (the default: no
# escape sequences, newlines kept), "line" (drawn on one row: no newlines either) or
# "stream" (learner output: SGR colours and "\r" kept).
LINE = {"text": "line"}
STREAM = {"text": "stream"}


@dataclass(frozen=True)
class CellStarted:
    request_id: int


@dataclass(frozen=True)
class OutputStreamed:
    """A batch of output. ``name`` is "stdout" or "stderr"; ``text`` is sanitised:
    control and binary bytes escaped, ANSI SGR colours and "\\r" kept."""

    request_id: int
    name: str
    text: str = field(metadata=STREAM)


@dataclass(frozen=True)
class OutputCapped:
    """The per-cell cap was hit: the head and the tail were kept, this much dropped."""

    request_id: int
    dropped_lines: int
    dropped_bytes: int


@dataclass(frozen=True)
class MetricsLogged:
    """Points from ``live.log``, coalesced; each point is ``(step, {metric: value})``."""

    request_id: int
    points: tuple[tuple[float | None, dict[str, float]], ...]
    chart: str = ""


@dataclass(frozen=True)
class Series:
    label: str | None = field(metadata=LINE)
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class PlotUpdated:
    """The FULL current state of one chart of the cell (``kind`` "line" or "scatter")."""

    request_id: int
    kind: str = field(metadata=LINE)
    title: str | None = field(metadata=LINE)
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Image:
    """Row-major uint8 pixels; ``mode`` "L" (1 byte a pixel) or "RGB" (3 bytes)."""

    width: int
    height: int
    mode: str
    pixels: bytes
    label: str | None = field(metadata=LINE)


@dataclass(frozen=True)
class ImagesShown:
    request_id: int
    title: str | None = field(metadata=LINE)
    images: tuple[Image, ...]
    ncols: int


@dataclass(frozen=True)
class Frame:
    """One learner frame of a traceback; ``filename`` is the cell label."""

    filename: str = field(metadata=LINE)
    lineno: int
    name: str = field(metadata=LINE)
    source: str | None = field(metadata=LINE)


@dataclass(frozen=True)
class CellFailed:
    """The cell raised. ``frames`` are learner frames only (outermost first); ``line``
    is the failing line of the executed code (1-based), or None."""

    request_id: int
    ename: str = field(metadata=LINE)
    message: str
    frames: tuple[Frame, ...]
    advice: str | None
    line: int | None


@dataclass(frozen=True)
class AdviceGiven:
    """A training-loop mistake the tutor noticed in the running cell (tutor.diagnose): a
    hint, never an error, at most once per kind per run. ``kind`` names the mistake
    (``zero-grad``, ...); ``line`` is the cell's line, or None; ``saw`` is one line
    (what it saw), ``why`` and ``fix`` plain words."""

    request_id: int
    kind: str = field(metadata=LINE)
    line: int | None
    saw: str = field(metadata=LINE)
    why: str
    fix: str


@dataclass(frozen=True)
class CellFinished:
    """Always the last event of a request.

    ``status``: "ok" | "error" | "interrupted" | "timeout" | "killed" | "crashed".
    ``reason``: plain words for the learner (None for a plain ok/error).
    ``threads``: background threads still alive after the cell.
    """

    request_id: int
    status: str
    duration: float
    reason: str | None
    state_lost: bool
    threads: tuple[str, ...] = field(metadata=LINE)


class WorkerState(str, Enum):
    STARTING = "starting"
    READY = "ready"
    RUNNING = "running"
    INTERRUPTING = "interrupting"
    RESTARTING = "restarting"
    CRASHED = "crashed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class WorkerInfo:
    pid: int
    torch_version: str | None = field(metadata=LINE)
    device: str = field(metadata=LINE)  # "cpu", "cuda:0", "mps"
    device_name: str = field(metadata=LINE)
    gpu_total: int | None  # bytes


@dataclass(frozen=True)
class WorkerStateChanged:
    state: WorkerState
    reason: str | None
    info: WorkerInfo | None


@dataclass(frozen=True)
class ResourcesMeasured:
    """About once a second while the worker lives (bytes)."""

    rss: int
    limit: int | None
    gpu_allocated: int | None
    gpu_reserved: int | None


@dataclass(frozen=True)
class WarmupChanged:
    """The active worker's background warm-up (tutor.sandbox.warmup): ``state`` is
    "warming", "warm" or "failed"; ``detail`` the seconds it took, or the error. Cells
    run meanwhile; a failed warm-up leaves the worker working, only colder."""

    state: str = field(metadata=LINE)
    detail: str | None


CellEvent = Union[CellStarted, OutputStreamed, OutputCapped, MetricsLogged, PlotUpdated,
                  ImagesShown, AdviceGiven, CellFailed, CellFinished]
WorkerEvent = Union[WorkerStateChanged, ResourcesMeasured, WarmupChanged]
