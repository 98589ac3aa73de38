"""Reference curves ("ghosts"): the lesson's own run of each training cell, drawn
faintly behind the learner's curve so they see at once whether their run is on track.

A lesson's reference runs live beside it, in ``NN-name.curves.json`` (written by
``tutor check --record-curves``), labelled with the device they were recorded on::

    {"format": 1, "lesson": "workflow", "device": "cpu", "device_name": "...",
     "torch": "2.14.1", "recorded": "2026-11-27",
     "curves": {"CELL-ID": {"code": "sha256:...", "metrics": {"train_loss": [[0, 0.93], ...]}}}}

Each curve remembers a hash of its cell's code: when the lesson's cell changes, the
curve is stale and is not shown (``tutor check`` says so, and how to record again).
Whether the LEARNER changed the cell is another matter: the ghost is still drawn, with
a note that it belongs to the lesson's settings.

Pure (stdlib only). Reading never raises: a missing file means no ghosts, a broken
one is a problem message.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from tutor.thinning import thin

FORMAT = 1
MAX_POINTS = 400  # per metric: enough for a faint line, small in the repository
SUFFIX = ".curves.json"


def _from_here(path: Path) -> str:
    """``path`` as a command typed here would name it: relative below this folder."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)
    return str(path) if relative.startswith("..") else relative


def sidecar_path(lesson_path: Path) -> Path:
    """``lessons/01-pytorch-workflow.md`` -> ``lessons/01-pytorch-workflow.curves.json``."""
    return lesson_path.with_name(lesson_path.stem + SUFFIX)


def code_hash(code: str) -> str:
    """The fingerprint of a cell's code; trailing spaces and blank lines at the ends do
    not count (an editor's save must not make a curve stale)."""
    lines = [line.rstrip() for line in code.strip("\n").splitlines()]
    return "sha256:" + hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Curve:
    """The reference run of one cell: each metric's points (step, value)."""

    code: str  # code_hash of the cell it was recorded from
    metrics: dict[str, tuple[tuple[float, float], ...]]


@dataclass(frozen=True)
class Curves:
    """One lesson's reference runs, and where they were recorded."""

    lesson: str
    device: str
    device_name: str = ""
    torch: str = ""
    recorded: str = ""
    curves: dict[str, Curve] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """Where the reference ran, for a chart's legend: ``cpu`` or ``cuda (NVIDIA H200)``."""
        return f"{self.device} ({self.device_name})" if self.device_name and self.device != "cpu" else self.device


@dataclass(frozen=True)
class Ghost:
    """What a chart draws behind a cell's curves."""

    metrics: dict[str, tuple[tuple[float, float], ...]]
    device: str
    note: str | None = None  # e.g. the learner changed the cell


class CurvesError(ValueError):
    """The sidecar file cannot be used; the message says why."""


# -- reading and writing ----------------------------------------------------------------

def load(lesson_path: Path) -> Curves | None:
    """The lesson's reference curves, or None when it has none. Raises CurvesError
    when the file is there but cannot be used."""
    path = sidecar_path(lesson_path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise CurvesError(f"cannot read {path.name}: {err.strerror or err}") from None
    try:
        return from_json(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise CurvesError(f"{path.name} is not a reference-curves file: {err}") from None


def from_json(data: dict) -> Curves:
    if not isinstance(data, dict):
        raise CurvesError("expected a JSON object")
    if data.get("format") != FORMAT:
        raise CurvesError(f"format {data.get('format')!r} (this tutor reads format {FORMAT}): record them again")
    curves = {}
    for cell_id, entry in dict(data["curves"]).items():
        metrics = {}
        for name, points in dict(entry["metrics"]).items():
            pairs = tuple((float(x), math.nan if y is None else float(y)) for x, y in points)
            if not pairs:
                raise CurvesError(f"cell {cell_id!r}: metric {name!r} has no points")
            metrics[str(name)] = pairs
        if not metrics:
            raise CurvesError(f"cell {cell_id!r} has no metrics")
        curves[str(cell_id)] = Curve(str(entry["code"]), metrics)
    return Curves(lesson=str(data["lesson"]), device=str(data["device"]), device_name=str(data.get("device_name", "")),
                  torch=str(data.get("torch", "")), recorded=str(data.get("recorded", "")), curves=curves)


def to_json(curves: Curves) -> str:
    """The file's text: one line per metric, so that a diff shows which curve changed."""
    head = {"format": FORMAT, "lesson": curves.lesson, "device": curves.device,
            "device_name": curves.device_name, "torch": curves.torch, "recorded": curves.recorded}
    lines = ["{"] + [f" {json.dumps(key)}: {json.dumps(value)}," for key, value in head.items()]
    lines.append(' "curves": {')
    for n, (cell_id, curve) in enumerate(curves.curves.items()):
        lines.append(f"  {json.dumps(cell_id)}: {{\"code\": {json.dumps(curve.code)}, \"metrics\": {{")
        for m, (name, points) in enumerate(curve.metrics.items()):
            values = json.dumps([[_round(x), _round(y)] for x, y in points], separators=(",", ":"))
            lines.append(f"   {json.dumps(name)}: {values}" + ("," if m < len(curve.metrics) - 1 else ""))
        lines.append("  }}" + ("," if n < len(curves.curves) - 1 else ""))
    lines += [" }", "}"]
    return "\n".join(lines) + "\n"


def _round(value: float):
    if not math.isfinite(value):
        return None  # JSON has no NaN; read back as a gap
    return int(value) if value == int(value) and abs(value) < 2**53 else float(f"{value:.6g}")


# -- against the lesson ---------------------------------------------------------------------

def problems(lesson, curves: Curves) -> list[tuple[int, str]]:
    """(line, message) for each curve that does not fit the lesson: a cell that is not
    there, or whose code changed since the curve was recorded (stale)."""
    blocks = {b.id: b for b in lesson.blocks() if hasattr(b, "id") and _code_of(b) is not None}
    found = []
    if curves.lesson != lesson.id:
        found.append((lesson.id_line, f"{sidecar_path(lesson.path).name} holds curves of lesson "
                                      f"'{curves.lesson}', not '{lesson.id}'"))
    record = f"record them again with `tutor check --run --record-curves {_from_here(lesson.path)}`"
    for cell_id, curve in curves.curves.items():
        block = blocks.get(cell_id)
        if block is None:
            found.append((1, f"{sidecar_path(lesson.path).name} has curves for '{cell_id}', which is not "
                             f"a cell of this lesson: {record}"))
        elif curve.code != code_hash(_code_of(block)):
            found.append((block.line, f"the reference curves of '{cell_id}' were recorded for an earlier "
                                      f"version of this cell (they are not shown): {record}"))
    return found


def _code_of(block) -> str | None:
    """The code a block's reference run ran: a cell's code, an exercise's solution."""
    if hasattr(block, "solution"):
        return block.solution
    return getattr(block, "code", None)


def ghost_for(curves: Curves | None, block, learner_code: str | None) -> Ghost | None:
    """The ghost of ``block`` (a cell or exercise), or None (no curve, or a stale one).
    ``learner_code``: what the learner ran; a note says when it differs from the lesson's."""
    if curves is None:
        return None
    curve = curves.curves.get(getattr(block, "id", ""))
    code = _code_of(block)
    if curve is None or code is None or curve.code != code_hash(code):
        return None
    note = None
    if learner_code is not None and code_hash(learner_code) != curve.code:
        note = ("reference: the lesson's solution" if hasattr(block, "solution")
                else "reference: the lesson's settings, not your changes")
    return Ghost(curve.metrics, curves.label, note)


class LessonGhosts:
    """One lesson's reference curves, read once, and the ghost of each of its runs.
    ``problem`` says why the file cannot be used ("" when it can, or when there is none)."""

    def __init__(self, lesson_path: Path) -> None:
        try:
            self.curves, self.problem = load(lesson_path), ""
        except CurvesError as err:
            self.curves, self.problem = None, str(err)

    def ghost(self, block, learner_code: str | None) -> Ghost | None:
        """The ghost of a run of ``block`` with ``learner_code`` (see :func:`ghost_for`)."""
        return ghost_for(self.curves, block, learner_code)


def mismatch(ghost: Ghost, logged: set[str]) -> str | None:
    """A note when the learner's run logs none of the ghost's metrics."""
    if not logged or logged & set(ghost.metrics):
        return None
    return f"no reference: it logged {', '.join(sorted(ghost.metrics))}, this run {', '.join(sorted(logged))}"


# -- recording ------------------------------------------------------------------------------

class Recorder:
    """Collects the ``live.log`` points of each block of a headless run."""

    def __init__(self) -> None:
        self.points: dict[str, dict[str, list[tuple[float, float]]]] = {}
        self._block: str | None = None
        self._auto = 0
        self.device = "cpu"
        self.device_name = ""
        self.torch = ""

    def block_started(self, block_id: str | None, kind: str = "") -> None:
        """A block starts (``kind`` as in the runner's ``BlockStarted``). A starter's run
        (``tutor check --run`` tries each one before its solution) is not the lesson's
        reference: its points are left out, and a block run again starts afresh."""
        self._block, self._auto = (None if kind == "starter" else block_id), 0
        if self._block is not None:
            self.points.pop(self._block, None)

    def worker_ready(self, device: str, device_name: str, torch: str | None) -> None:
        self.device, self.device_name, self.torch = device, device_name, torch or ""

    def metrics(self, points) -> None:
        """``points`` as in ``MetricsLogged``: (step or None, {name: value})."""
        if self._block is None:
            return
        cell = self.points.setdefault(self._block, {})
        for step, values in points:
            x = float(self._auto if step is None else step)
            self._auto = int(x) + 1
            for name, value in values.items():
                cell.setdefault(name, []).append((x, float(value)))

    def curves(self, lesson, today: datetime.date | None = None) -> Curves:
        blocks = {b.id: b for b in lesson.blocks() if hasattr(b, "id")}
        found = {}
        for block_id, metrics in self.points.items():
            block = blocks.get(block_id)
            if block is None or _code_of(block) is None or not metrics:
                continue
            found[block_id] = Curve(code_hash(_code_of(block)),
                                    {name: _thin(points) for name, points in metrics.items()})
        device_name = "" if self.device == "cpu" else self.device_name
        return Curves(lesson.id, self.device, device_name, self.torch,
                      (today or datetime.date.today()).isoformat(), found)


def _thin(points: list[tuple[float, float]], limit: int = MAX_POINTS) -> tuple[tuple[float, float], ...]:
    """At most about ``limit`` points by the one thinning routine (tutor.thinning): the
    last one exact, and the lowest and highest of each stretch kept."""
    xs, ys = thin([x for x, _ in points], [y for _, y in points], limit)
    return tuple(zip(xs, ys))
