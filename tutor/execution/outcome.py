"""How a job went, and the words for it: one wording for the app and ``tutor run``.

An :class:`Outcome` keeps each part that ran (how it finished, its error), says whether
the run went as the lesson meant (``ok``), whether later cells may run after it
(``may_go_on``), an exercise's verdict (``passed``), and one line saying what went wrong
(``message``). ``advice`` holds further lines for the learner (e.g. "cells above have
not run"); the training-loop diagnosis of the code is ``diagnosis`` (``AdviceGiven``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tutor.execution.jobs import CHECK, SETUP, Job, Part
from tutor.lessons.model import expected_errors, raised_as_meant
from tutor.sandbox.events import AdviceGiven, CellFailed, CellFinished

PASSED = "Passed! Well done."
NAME_ERRORS = ("NameError", "UnboundLocalError")


@dataclass(frozen=True)
class PartRun:
    """One part that ran: how it finished, and its error if it raised one."""

    part: Part
    finished: CellFinished
    failure: CellFailed | None = None
    advice: tuple[AdviceGiven, ...] = ()  # the training-loop advice it got (tutor.diagnose)

    @property
    def ok(self) -> bool:
        return self.finished.status == "ok"

    @property
    def line(self) -> int:
        """The lesson file's line where it failed (its first line when that is unknown)."""
        if self.failure is not None and self.failure.line:
            return self.part.line + self.failure.line - 1
        return self.part.line

    def why(self, *, advice: bool = True) -> str:
        """Why it did not end well, in one line: ``ZeroDivisionError: division by zero``,
        or the sandbox's reason (``Stopped after 30 s …``) before the error it caused; an
        error that cost the worker (CUDA broken for the process) says so after it. The
        error's advice follows in brackets unless ``advice`` is False."""
        failure, finished = self.failure, self.finished
        if failure is None:
            return finished.reason or f"it did not finish ({finished.status})"
        text = error_text(failure)
        if advice and failure.advice:
            text += f" ({failure.advice})"
        if finished.reason:
            text = f"{text} {finished.reason}" if finished.status == "error" else f"{finished.reason} {text}"
        return text


def error_text(failure: CellFailed) -> str:
    """``ename: first line of the message`` (just ``ename`` when there is no message)."""
    first = failure.message.strip().splitlines()[0] if failure.message.strip() else ""
    return f"{failure.ename}: {first}" if first else failure.ename


@dataclass
class Outcome:
    """What one run of a job did."""

    job: Job
    runs: list[PartRun]  # every part that ran, in order
    failed: PartRun | None  # the part that did not go as meant (None: everything did)
    message: str = ""  # what went wrong, one line ("" when nothing did)
    passed: bool | None = None  # a Check: did the exercise pass (None: not a check)
    expected_error: bool = False  # a ``raises=`` cell raised what the lesson says it would
    advice: list[str] = field(default_factory=list)

    @property
    def code(self) -> PartRun | None:
        """The run of the block's own code (None when a setup part failed first)."""
        return next((r for r in self.runs if r.part is self.job.code), None)

    @property
    def finished(self) -> CellFinished | None:
        """How the code ended (a failing setup's ending when the code never ran)."""
        run = self.code or (self.runs[-1] if self.runs else None)
        return run.finished if run else None

    @property
    def failure(self) -> CellFailed | None:
        """The code's error (a failing setup's when the code never ran), if any."""
        run = self.code or (self.runs[-1] if self.runs else None)
        return run.failure if run else None

    @property
    def diagnosis(self) -> tuple[AdviceGiven, ...]:
        """What the tutor noticed in the block's code (training-loop mistakes)."""
        return self.code.advice if self.code is not None else ()

    @property
    def status(self) -> str:
        """The code's status ("ok", "error", "timeout", ...); "setup" when a setup part
        failed, "not run" when nothing ran."""
        if self.failed is not None and self.failed.part.phase == SETUP:
            return "setup"
        code = self.code
        return code.finished.status if code else "not run"

    @property
    def code_ran(self) -> bool:
        """The code ran to its end, or raised what it should (its names exist now)."""
        return self.status == "ok" or self.expected_error

    @property
    def ok(self) -> bool:
        """It went as the lesson means: the code ran (a ``raises=`` cell raised), the check passed."""
        if self.job.raises:
            return self.expected_error
        return self.code_ran and self.passed is not False

    @property
    def may_go_on(self) -> bool:
        """Later queued cells may run after this one (like a notebook's "run all", a run
        stops at the first cell whose code did not end or whose check failed)."""
        return self.code_ran and self.passed is not False

    @property
    def missing_name(self) -> bool:
        """The code or the check hit a NameError (cells above may not have run)."""
        return any(r.failure is not None and r.failure.ename in NAME_ERRORS for r in self.runs)

    @property
    def line(self) -> int:
        """The lesson file's line to point at: the failing line, else the block's fence."""
        return self.failed.line if self.failed is not None else self.job.code.line - 1

    @property
    def duration(self) -> float:
        """Seconds the block's code and check ran (setup excluded)."""
        return sum(r.finished.duration for r in self.runs if r.part.phase != SETUP)

    @property
    def feedback(self) -> str:
        """What a Check says to the learner."""
        return PASSED if self.passed else self.message


def judge(job: Job, runs: list[PartRun]) -> Outcome:
    """The outcome of the parts that ran (the last one ended the job)."""
    last = runs[-1]
    if last.part.phase == SETUP:  # only a failing setup ends a job early
        return Outcome(job, runs, last, f"The lesson's hidden setup code failed: {last.why()}",
                       passed=False if job.is_check else None)
    if job.is_check:
        return _judge_check(job, runs)
    if job.raises:
        return _judge_raises(job, runs, last)
    return Outcome(job, runs, None if last.ok else last, "" if last.ok else last.why())


def _judge_raises(job: Job, runs: list[PartRun], code: PartRun) -> Outcome:
    raised = code.failure.ename if code.failure else None
    if code.finished.status == "error" and raised_as_meant(job.raises, raised):
        return Outcome(job, runs, None, f"raised {raised}, as it should", expected_error=True)
    expected = " or ".join(expected_errors(job.raises))
    if raised:
        message = f"expected {expected}, but it raised {code.why()}"
    elif code.ok:
        message = f"expected {expected}, but the cell raised nothing"
    else:
        message = f"expected {expected}, but the cell ended: {code.why()}"
    return Outcome(job, runs, code, message)


def _judge_check(job: Job, runs: list[PartRun]) -> Outcome:
    last = runs[-1]
    if last.part.phase != CHECK:  # the learner's code failed: the check never ran
        # (its error and advice are shown above the verdict: the verdict does not repeat the advice)
        return Outcome(job, runs, last, f"{last.why(advice=False)} (the check did not run)",
                       passed=False)
    if last.ok:
        return Outcome(job, runs, None, "", passed=True)
    failure = last.failure
    if failure is not None and failure.ename == "AssertionError":
        message = failure.message.strip() or "The check failed (it gave no message)."
    elif failure is not None:
        message = f"The check could not run: {last.why()}"
    else:
        message = f"The check did not finish: {last.why()}"
    return Outcome(job, runs, last, message, passed=False)


def cells_not_run_advice(outcome: Outcome, above: Iterable[str], has_run: Callable[[str], bool]) -> str:
    """After a NameError: say so when cells above have not run in this worker (a fresh
    worker after a restart, or a lesson opened in the middle); "" otherwise."""
    if not outcome.missing_name or outcome.expected_error:
        return ""
    missing = sum(not has_run(block_id) for block_id in above)
    if not missing:
        return ""
    if missing == 1:
        return "A cell above this one has not run since the worker started: press F4 to run it, then try again."
    return (f"{missing} cells above this one have not run since the worker started: "
            "press F4 to run them, then try again.")


def sandbox_failed(job: Job, error: BaseException) -> Outcome:
    """The sandbox itself failed (not the learner's code): nothing more runs."""
    return Outcome(job, [], None, f"The sandbox failed: {type(error).__name__}: {error}",
                   passed=False if job.is_check else None)
