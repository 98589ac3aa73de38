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

Each block runs through ``tutor.execution``, the core the app uses too: the same
labels (``cell 3``), setup once per worker, and the same words for what went wrong.
Only the time limit differs: ``timeout`` applies to every part, as nobody is there to
press Stop.

The tutor's training-loop advice (``tutor.diagnose``) comes as ``AdviceNoted`` events,
at the lesson file's line. A cell marked ``diagnose=KIND`` shows that mistake on
purpose: it fails when that advice does not come (except the numerical kinds, a flat
or NaN loss, which depend on seeds and devices). In selftest mode the lesson's own
code must get no other advice (a false alarm, or a mistake the lesson should mark).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tutor import config, curves
from tutor.charts import ChartBook
from tutor.execution import CHECK, CODE, SETUP, Executor, Limits, Outcome, Part, block_label, job_for, runs
from tutor.execution.outcome import judge
from tutor.lessons.model import CodeCell, Exercise, Lesson, mistakes_shown
from tutor.sandbox.events import AdviceGiven, CellFailed, CellFinished, CellStarted, OutputCapped, OutputStreamed

MODES = ("starters", "solutions", "selftest")
# Advice that depends on the numbers a run meets (seeds, devices): a cell marked with it
# may get it, and need not (the other kinds follow from the code alone).
NUMERICAL = ("loss-flat", "loss-not-finite")


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
    advice: tuple[str, ...] = ()  # the kinds of training-loop advice its code got


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
class CheckStarted:
    """Runner event: an exercise's check starts; what it prints follows (a check that
    trains the learner's function again prints its epochs again: under its own heading)."""

    block_id: str
    location: str


@dataclass(frozen=True)
class AdviceNoted:
    """Runner event: the tutor's training-loop advice about a block's code."""

    block_id: str
    location: str  # path:line of what it is about (the block's fence when it has no line)
    advice: AdviceGiven

    @property
    def text(self) -> str:
        """``path:line: what it saw. Why. Fix: ...``, one line."""
        tip = self.advice
        return f"{self.location}: {tip.saw} {tip.why} Fix: {tip.fix}"


@dataclass(frozen=True)
class BlockFinished:
    """Runner event: a piece of the lesson ran (or was skipped)."""

    result: CellResult


class _LessonRunner:
    """Runs the blocks of one lesson in order, in modes, through the execution core."""

    def __init__(self, lesson: Lesson, mode: str, timeout: float | None, client, on_event) -> None:
        self.lesson = lesson
        self.mode = mode
        self.limits = Limits.every(timeout)
        self.on_event = on_event or (lambda event: None)
        self.executor = Executor(client, report=self._report, starting=self._starting)
        self.labels = {block.id: block_label(block, n)
                       for n, block in enumerate((b for b in lesson.blocks() if runs(b)), 1)}
        self.run = LessonRun(lesson.id, lesson.path, mode)
        self.lost = False
        self._announce: BlockStarted | None = None  # said when the block's code starts
        self._output: list[str] = []
        self._charts = ChartBook()
        self._block_id = ""
        self._ghost = None  # the reference run of the block running (tutor.curves)
        self.ghosts = curves.LessonGhosts(lesson.path)  # a broken file: tutor check says what is wrong

    def where(self, line: int) -> str:
        return f"{self.lesson.path}:{line}"

    # -- what the core reports ------------------------------------------------------

    def _starting(self, part: Part) -> None:
        if part.phase == SETUP:
            line = part.line - 1
            self.on_event(BlockStarted(f"setup@{line}", "setup", self.where(line)))
        elif part.phase == CODE and self._announce is not None:
            self.on_event(self._announce)
            self._announce = None
        elif part.phase == CHECK:
            self.on_event(CheckStarted(self._block_id, self.where(part.line - 1)))
        if part.phase != CHECK:  # a block's output: its code's and its check's
            self._output, self._charts = [], ChartBook(self._ghost if part.phase == CODE else None)

    def _report(self, part: Part, event) -> None:
        self.on_event(event)
        if isinstance(event, AdviceGiven):
            line = part.line + event.line - 1 if event.line else part.line - 1
            self.on_event(AdviceNoted(self._block_id, self.where(line), event))
        elif isinstance(event, OutputStreamed):
            self._output.append(event.text)
        elif isinstance(event, OutputCapped):
            self._output.append(f"\n… {event.dropped_lines} lines ({event.dropped_bytes} bytes) not shown …\n")
        elif isinstance(event, CellFinished):
            if event.state_lost:
                self.lost = True
        elif not isinstance(event, (CellStarted, CellFailed, AdviceGiven)):
            self._charts.add(event)

    # -- results --------------------------------------------------------------------

    def record(self, result: CellResult) -> None:
        self.run.results.append(result)
        self.on_event(BlockFinished(result))

    def skip(self, block_id: str, kind: str, line: int) -> None:
        self.record(CellResult(block_id, kind, self.where(line), "skipped", False,
                               "not run: the worker lost its variables at an earlier failure", ""))

    def result(self, block_id: str, kind: str, outcome: Outcome, ok: bool, message: str) -> CellResult:
        line = outcome.line if not ok else outcome.job.code.line - 1
        status = next((r.finished.status for r in outcome.runs if not r.ok), "ok")
        return CellResult(block_id, kind, self.where(line), status, ok, message, "".join(self._output),
                          self._charts.render(), outcome.duration, tuple(a.kind for a in outcome.diagnosis))

    def judged(self, block, kind: str, outcome: Outcome) -> CellResult:
        """The result of a run of the lesson's own code (a cell, a solution): as the core
        judged it, unless the advice it got says otherwise (see the module docstring)."""
        if not outcome.ok:
            return self.result(block.id, kind, outcome, False, outcome.message)
        problem = self.advice_problem(block, outcome)
        if problem:
            return self.result(block.id, kind, outcome, False, problem)
        return self.result(block.id, kind, outcome, True, outcome.message)

    def advice_problem(self, block, outcome: Outcome) -> str:
        shown = mistakes_shown(block.diagnose)
        given = {a.kind for a in outcome.diagnosis}
        missing = [kind for kind in shown if kind not in given and kind not in NUMERICAL]
        if missing:
            return (f"the lesson marks this cell diagnose={'|'.join(shown)}, but the tutor gave no "
                    f"'{missing[0]}' advice")
        unexpected = [a for a in outcome.diagnosis if a.kind not in shown]
        if self.mode == "selftest" and unexpected:
            tip = unexpected[0]
            return (f"the tutor gave advice the lesson does not expect (a false alarm, or mark the cell "
                    f"diagnose={tip.kind}): {tip.saw}")
        return ""

    async def attempt(self, block, kind: str, *, code: str | None = None, code_line: int | None = None,
                      check: bool = True) -> Outcome | None:
        """Run ``block`` (with ``code`` instead of its own); None when its setup failed
        (that is recorded as the setup's failure)."""
        job = job_for(block, label=self.labels[block.id], code=code, code_line=code_line, check=check,
                      limits=self.limits)
        self._block_id = block.id
        self._ghost = self.ghosts.ghost(block, job.code.code)
        self._announce = BlockStarted(block.id, kind, self.where(job.code.line - 1))
        outcome = await self.executor.run(job)
        self._announce = None
        if outcome.status == "setup":
            self.record_setup_failure(outcome)
            return None
        return outcome

    def record_setup_failure(self, outcome: Outcome) -> None:
        failed = outcome.failed
        line = failed.part.line - 1
        self.record(CellResult(f"setup@{line}", "setup", self.where(failed.line), failed.finished.status,
                               False, outcome.message, "".join(self._output), self._charts.render(),
                               failed.finished.duration))

    async def prepare(self, block) -> None:
        """Only the hidden setup ``block`` needs (a failure is recorded as the setup's)."""
        job = job_for(block, label=self.labels[block.id], limits=self.limits)
        runs = await self.executor.prepare(job)
        if runs and not runs[-1].ok:
            self.record_setup_failure(judge(job, runs))

    # -- blocks -----------------------------------------------------------------------

    async def cell(self, cell: CodeCell) -> None:
        if self.lost:
            return self.skip(cell.id, "cell", cell.line)
        outcome = await self.attempt(cell, "cell")
        if outcome is not None:
            self.record(self.judged(cell, "cell", outcome))

    async def exercise(self, exercise: Exercise) -> None:
        if self.lost:
            kinds = ("starter", "solution") if self.mode == "selftest" else ("exercise",)
            for kind in kinds:
                self.skip(exercise.id, kind, exercise.line)
            return
        if self.mode != "selftest":
            solution = self.mode == "solutions"
            outcome = await self.attempt(exercise, "exercise", code=exercise.solution if solution else None,
                                         code_line=exercise.solution_line + 1 if solution else None)
            if outcome is not None:
                self.record(self.judged(exercise, "exercise", outcome) if solution else
                            self.result(exercise.id, "exercise", outcome, outcome.ok, outcome.message))
            return
        starter = await self.attempt(exercise, "starter")
        if starter is None:
            return
        if starter.passed:
            self.record(self.result(exercise.id, "starter", starter, False,
                                    "the starter passes its check: the exercise is already solved"))
        else:
            self.record(self.result(exercise.id, "starter", starter, True, f"fails as it should: {starter.message}"))
        if self.lost:
            return self.skip(exercise.id, "solution", exercise.solution_line)
        solution = await self.attempt(exercise, "solution", code=exercise.solution,
                                      code_line=exercise.solution_line + 1)
        if solution is not None:
            self.record(self.judged(exercise, "solution", solution))

    async def all(self, stop_before: str | None = None) -> LessonRun:
        for block in self.lesson.blocks():
            if not isinstance(block, (CodeCell, Exercise)):
                continue
            if block.id == stop_before:
                if not self.lost:
                    await self.prepare(block)
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
    outcome = await runner.attempt(exercise, "exercise", code=code)
    if outcome is None:  # its setup failed: that is the answer's result
        return runner.run.results[-1]
    return runner.result(exercise.id, "exercise", outcome, outcome.ok, outcome.message)


def describe_failure(result: CellResult) -> str:
    """``path:line: block (kind): why``, one line."""
    what = {"cell": "cell", "setup": "setup cell", "exercise": "exercise", "starter": "starter of",
            "solution": "solution of"}.get(result.kind, result.kind)
    return f"{result.location}: {what} {result.block_id}: {result.message}"
