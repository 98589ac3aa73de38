"""Headless execution of a lesson in the sandbox: ``tutor run``, ``tutor check --run``
and tests/test_lessons.py.

    run = await run_lesson(lesson, mode="solutions", timeout=120)
    run.ok; [f"{r.location}: {r.message}" for r in run.failures]

Modes: "starters" runs each exercise's starter then its check (the learner's view);
"solutions" runs the solution instead; "selftest" proves the exercise honest: the
starter + check must FAIL, then the solution + check must pass. Setup cells run once,
before the block they precede. A cell with ``raises=X`` passes only if it raises X.
Everything runs in one worker per lesson; if the worker loses its state (a crash, a
kill), the blocks after it are reported as not run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tutor import config
from tutor.lessons.model import CodeCell, Exercise, Lesson, SetupCell, expected_errors, raised_as_meant
from tutor.sandbox.events import CellFailed, CellFinished, OutputCapped, OutputStreamed
from tutor.sandbox.textcharts import ChartBook

MODES = ("starters", "solutions", "selftest")


@dataclass(frozen=True)
class CellResult:
    """One piece of a lesson that ran. ``kind``: "setup", "cell", "exercise" (starters
    and solutions modes), "starter" or "solution" (selftest). ``status`` is the
    sandbox's ("ok", "error", "timeout", ...), or "skipped"; ``ok`` says whether it
    went as it should (a selftest starter is ok when it fails its check)."""

    block_id: str
    kind: str
    location: str  # path:line of the failing line, else of the block
    status: str
    ok: bool
    message: str
    output: str
    charts: tuple[str, ...] = ()
    duration: float = 0.0


@dataclass
class LessonRun:
    lesson_id: str
    path: Path
    mode: str
    results: list[CellResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> list[CellResult]:
        return [r for r in self.results if not r.ok]


@dataclass(frozen=True)
class BlockStarted:
    """Runner event: a piece of the lesson is about to run."""

    block_id: str
    kind: str
    location: str


@dataclass(frozen=True)
class BlockFinished:
    """Runner event: a piece of the lesson ran (or was skipped)."""

    result: CellResult


@dataclass
class _Piece:
    """The outcome of one execute() call."""

    code_line: int  # the file line of the code's first line
    finished: CellFinished | None = None
    failure: CellFailed | None = None
    output: list[str] = field(default_factory=list)
    charts: ChartBook = field(default_factory=ChartBook)

    @property
    def passed(self) -> bool:
        return self.finished is not None and self.finished.status == "ok"

    @property
    def state_lost(self) -> bool:
        return self.finished is not None and self.finished.state_lost

    def why(self) -> str:
        failure = self.failure
        if failure is not None:
            text = f"{failure.ename}: {failure.message}" if failure.message else failure.ename
            if failure.advice:
                text += f" ({failure.advice})"
            if self.finished is not None and self.finished.reason and self.finished.status != "error":
                text = f"{self.finished.reason} {text}"
            return text
        if self.finished is not None and self.finished.reason:
            return self.finished.reason
        return "failed"

    def line(self) -> int:
        if self.failure is not None and self.failure.line:
            return self.code_line + self.failure.line - 1
        return self.code_line


class _LessonRunner:
    def __init__(self, lesson: Lesson, mode: str, timeout: float | None, client, on_event) -> None:
        self.lesson = lesson
        self.mode = mode
        self.timeout = timeout
        self.client = client
        self.on_event = on_event or (lambda event: None)
        self.run = LessonRun(lesson.id, lesson.path, mode)
        self.setups_done: set[int] = set()
        self.lost = False

    def where(self, line: int) -> str:
        return f"{self.lesson.path}:{line}"

    async def execute(self, code: str, label: str, code_line: int) -> _Piece:
        piece = _Piece(code_line)
        async for event in self.client.execute(code, label=label, timeout=self.timeout):
            self.on_event(event)
            if isinstance(event, OutputStreamed):
                piece.output.append(event.text)
            elif isinstance(event, OutputCapped):
                piece.output.append(f"\n… {event.dropped_lines} lines ({event.dropped_bytes} bytes) not shown …\n")
            elif isinstance(event, CellFailed):
                piece.failure = event
            elif isinstance(event, CellFinished):
                piece.finished = event
            else:
                piece.charts.add(event)
        if piece.state_lost:
            self.lost = True
            self.setups_done.clear()
        return piece

    def record(self, result: CellResult) -> None:
        self.run.results.append(result)
        self.on_event(BlockFinished(result))

    def skip(self, block_id: str, kind: str, line: int) -> None:
        self.record(CellResult(block_id, kind, self.where(line), "skipped", False,
                               "not run: the worker lost its variables at an earlier failure", ""))

    def result(self, block_id: str, kind: str, pieces: list[_Piece], ok: bool, message: str,
               failed: _Piece | None) -> CellResult:
        line = failed.line() if failed is not None else pieces[0].code_line - 1
        status = next((p.finished.status for p in pieces if p.finished and p.finished.status != "ok"), "ok")
        return CellResult(
            block_id, kind, self.where(line), status, ok, message,
            "".join(text for p in pieces for text in p.output),
            tuple(chart for p in pieces for chart in p.charts.render()),
            sum(p.finished.duration for p in pieces if p.finished),
        )

    async def setups(self, setups: tuple[SetupCell, ...]) -> bool:
        for setup in setups:
            if setup.line in self.setups_done:
                continue
            self.on_event(BlockStarted(f"setup@{setup.line}", "setup", self.where(setup.line)))
            piece = await self.execute(setup.code, f"setup (line {setup.line})", setup.line + 1)
            if not piece.passed:
                self.record(self.result(f"setup@{setup.line}", "setup", [piece], False, piece.why(), piece))
                return False
            self.setups_done.add(setup.line)
        return True

    async def cell(self, cell: CodeCell) -> None:
        if self.lost:
            return self.skip(cell.id, "cell", cell.line)
        if not await self.setups(cell.setup):
            return
        self.on_event(BlockStarted(cell.id, "cell", self.where(cell.line)))
        piece = await self.execute(cell.code, cell.id, cell.line + 1)
        if cell.raises:
            expected = " or ".join(expected_errors(cell.raises))
            raised = piece.failure.ename if piece.failure else None
            ok = piece.finished is not None and piece.finished.status == "error" and \
                raised_as_meant(cell.raises, raised)
            if ok:
                message = f"raised {raised}, as it should"
            elif raised:
                message = f"expected {expected}, but it raised {piece.why()}"
            else:
                message = f"expected {expected}, but the cell " + \
                          ("raised nothing" if piece.passed else f"ended: {piece.why()}")
            return self.record(self.result(cell.id, "cell", [piece], ok, message, piece if not ok else None))
        message = "" if piece.passed else piece.why()
        self.record(self.result(cell.id, "cell", [piece], piece.passed, message, None if piece.passed else piece))

    async def attempt(self, exercise: Exercise, code: str, code_line: int, label: str) -> tuple[list[_Piece], _Piece | None]:
        """Run the exercise's code then its check: (pieces, the failing piece or None)."""
        code_piece = await self.execute(code, label, code_line)
        if not code_piece.passed:
            return [code_piece], code_piece
        check = await self.execute(exercise.check, f"{exercise.id} check", exercise.check_line + 1)
        return [code_piece, check], (None if check.passed else check)

    async def exercise(self, exercise: Exercise) -> None:
        if self.lost:
            kinds = ("starter", "solution") if self.mode == "selftest" else ("exercise",)
            for kind in kinds:
                self.skip(exercise.id, kind, exercise.line)
            return
        if not await self.setups(exercise.setup):
            return
        if self.mode == "selftest":
            self.on_event(BlockStarted(exercise.id, "starter", self.where(exercise.line)))
            pieces, failed = await self.attempt(exercise, exercise.starter, exercise.line + 1, exercise.id)
            if failed is None:
                self.record(self.result(exercise.id, "starter", pieces, False,
                                        "the starter passes its check: the exercise is already solved",
                                        None))
            else:
                self.record(self.result(exercise.id, "starter", pieces, True,
                                        f"fails as it should: {failed.why()}", None))
            if self.lost:
                return self.skip(exercise.id, "solution", exercise.solution_line)
            self.on_event(BlockStarted(exercise.id, "solution", self.where(exercise.solution_line)))
            pieces, failed = await self.attempt(exercise, exercise.solution, exercise.solution_line + 1,
                                                f"{exercise.id} solution")
            self.record(self.result(exercise.id, "solution", pieces, failed is None,
                                    "" if failed is None else failed.why(), failed))
            return
        use_solution = self.mode == "solutions"
        code = exercise.solution if use_solution else exercise.starter
        line = exercise.solution_line if use_solution else exercise.line
        label = f"{exercise.id} solution" if use_solution else exercise.id
        self.on_event(BlockStarted(exercise.id, "exercise", self.where(line)))
        pieces, failed = await self.attempt(exercise, code, line + 1, label)
        self.record(self.result(exercise.id, "exercise", pieces, failed is None,
                                "" if failed is None else failed.why(), failed))

    async def all(self, stop_before: str | None = None) -> LessonRun:
        for block in self.lesson.blocks():
            if not isinstance(block, (CodeCell, Exercise)):
                continue
            if block.id == stop_before:
                if not self.lost:
                    await self.setups(block.setup)
                break
            if isinstance(block, CodeCell):
                await self.cell(block)
            else:
                await self.exercise(block)
        return self.run


async def run_lesson(lesson: Lesson, *, mode: str = "starters", timeout: float | None = None,
                     device: str = "auto", memory_limit: int | None = None,
                     on_event: Callable[[object], None] | None = None,
                     workdir: Path | None = None, client=None, perturb: int = 0,
                     stop_before: str | None = None) -> LessonRun:
    """Run a lesson headless in one fresh worker. ``on_event`` gets the sandbox events,
    worker state changes, and ``BlockStarted``/``BlockFinished``. ``client``: an
    existing SandboxClient to use (left running) instead of a fresh one. ``perturb``:
    every torch seed shifted by K and another thread count (``tutor.sandbox.perturb``).
    ``stop_before``: the id of a cell or exercise: run the lesson up to it (its hidden
    setup included, itself not), e.g. to try answers to that exercise."""
    if mode not in MODES:
        raise ValueError(f"unknown mode '{mode}' (choose from {', '.join(MODES)})")
    if stop_before is not None and not any(getattr(b, "id", None) == stop_before for b in lesson.blocks()):
        raise ValueError(f"no cell or exercise '{stop_before}' in {lesson.path}")
    from tutor.sandbox.client import SandboxClient

    own = client is None
    if own:
        client = SandboxClient(workdir=workdir or config.workspace_dir(lesson.id), device=device,
                               memory_limit=memory_limit, on_event=on_event, perturb=perturb)
    try:
        await client.start()
        return await _LessonRunner(lesson, mode, timeout, client, on_event).all(stop_before)
    finally:
        if own:
            await client.shutdown()


async def try_answer(client, lesson: Lesson, exercise_id: str, code: str, *,
                     timeout: float | None = None) -> CellResult:
    """Grade ``code`` as an answer to an exercise, in ``client``'s worker as it stands
    (run the lesson up to the exercise first, with ``run_lesson(stop_before=...)``):
    the code, then the hidden check. ``ok`` says whether it passed; ``message`` why not."""
    exercise = next((e for e in lesson.exercises() if e.id == exercise_id), None)
    if exercise is None:
        raise ValueError(f"no exercise '{exercise_id}' in {lesson.path}")
    runner = _LessonRunner(lesson, "starters", timeout, client, None)
    pieces, failed = await runner.attempt(exercise, code, exercise.line + 1, exercise.id)
    return runner.result(exercise.id, "exercise", pieces, failed is None,
                         "" if failed is None else failed.why(), failed)


def describe_failure(result: CellResult) -> str:
    """``path:line: block (kind): why``, one line."""
    what = {"cell": "cell", "setup": "setup cell", "exercise": "exercise", "starter": "starter of",
            "solution": "solution of"}.get(result.kind, result.kind)
    return f"{result.location}: {what} {result.block_id}: {result.message}"
