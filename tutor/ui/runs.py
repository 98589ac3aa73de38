"""Running one cell in the sandbox: its hidden setup first (once per worker), then the
learner's code, then, for an exercise, the hidden check. No Textual here: progress is
reported through a callback, so the lesson screen can turn it into messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from tutor.lessons.model import SetupCell, raised_as_meant
from tutor.sandbox.events import CellFailed, CellFinished

EXERCISE_CODE_TIMEOUT = 120.0  # seconds for the learner's code when checking an exercise
CHECK_TIMEOUT = 30.0  # seconds for the hidden check itself

SETUP, CODE, CHECK = "setup", "code", "check"


@dataclass
class RunRequest:
    cell_id: str
    label: str  # the cell's name in tracebacks, e.g. "cell 3"
    code: str
    setup: tuple[SetupCell, ...] = ()
    check: str | None = None  # an exercise's hidden check: this run is a Check
    raises: str | None = None  # a cell meant to fail with this exception ("read the error")

    @property
    def is_check(self) -> bool:
        return self.check is not None


@dataclass
class RunOutcome:
    status: str  # the learner code's status ("ok", "error", ...), or "setup" when setup failed
    finished: CellFinished | None = None
    passed: bool | None = None  # a Check: did the exercise pass
    feedback: str = ""  # a Check: what the learner reads
    failure: CellFailed | None = None
    expected_error: bool = False  # the cell raised what the lesson said it would
    missing_name: bool = False  # the code or the check hit a NameError

    @property
    def code_ran(self) -> bool:
        """The learner's code ran to its end (for a Check: whatever the check said)."""
        return self.status == "ok" or self.expected_error

    @property
    def ok(self) -> bool:
        """The run went as the lesson meant: later queued cells may run."""
        return (self.status == "ok" or self.expected_error) and self.passed is not False


Report = Callable[[str, object], None]  # (phase, event)


async def execute(client, code: str, *, label: str, timeout: float | None, phase: str,
                  report: Report) -> tuple[CellFinished, CellFailed | None]:
    """Run ``code``; report every event; return how it ended and its failure, if any."""
    failure = None
    finished = None
    async for event in client.execute(code, label=label, timeout=timeout):
        if isinstance(event, CellFailed):
            failure = event
        elif isinstance(event, CellFinished):
            finished = event
        report(phase, event)
    assert finished is not None, "the sandbox always ends a request with CellFinished"
    return finished, failure


def setup_key(setup: SetupCell) -> tuple[int, str]:
    return (setup.line, setup.code)


async def perform_run(request: RunRequest, session, report: Report) -> RunOutcome:
    """Setup cells still needed in this worker, the code, and the check if any."""
    client = session.client
    for setup in request.setup:
        key = setup_key(setup)
        if not session.setup_needed(key):
            continue
        finished, failure = await execute(client, setup.code, label="setup", timeout=None,
                                          phase=SETUP, report=report)
        session.observe(finished)
        if finished.status != "ok":
            return RunOutcome("setup", finished, passed=False if request.is_check else None,
                              feedback="The lesson's hidden setup code failed (see the output).",
                              failure=failure)
        session.setup_ran(key)

    timeout = EXERCISE_CODE_TIMEOUT if request.is_check else None
    finished, failure = await execute(client, request.code, label=request.label, timeout=timeout,
                                      phase=CODE, report=report)
    session.observe(finished)
    if not request.is_check:
        return RunOutcome(finished.status, finished, failure=failure,
                          expected_error=finished.status == "error" and raised_as_meant(
                              request.raises, failure.ename if failure else None),
                          missing_name=_is_name_error(failure))
    if finished.status != "ok":
        return RunOutcome(finished.status, finished, passed=False,
                          feedback=code_failed_feedback(finished, failure), failure=failure,
                          missing_name=_is_name_error(failure))

    check_finished, check_failure = await execute(client, request.check or "", label="check",
                                                  timeout=CHECK_TIMEOUT, phase=CHECK, report=report)
    session.observe(check_finished)
    passed = check_finished.status == "ok"
    return RunOutcome(finished.status, finished, passed=passed,
                      feedback="Passed! Well done." if passed else check_feedback(check_finished, check_failure),
                      failure=failure, missing_name=_is_name_error(check_failure))


def _is_name_error(failure: CellFailed | None) -> bool:
    return failure is not None and failure.ename in ("NameError", "UnboundLocalError")


def code_failed_feedback(finished: CellFinished, failure: CellFailed | None) -> str:
    if failure is not None:
        return f"Your code raised {failure.ename} before the check could run (see the output)."
    if finished.status == "timeout":
        return f"Your code ran longer than {EXERCISE_CODE_TIMEOUT:.0f} s and was stopped."
    return finished.reason or f"Your code did not finish ({finished.status})."


def check_feedback(finished: CellFinished, failure: CellFailed | None) -> str:
    """What a failing check says: its assertion message, or why it could not run."""
    if failure is not None:
        if failure.ename == "AssertionError":
            return failure.message or "The check failed (it gave no message)."
        return f"The check could not run: {failure.ename}: {failure.message}".rstrip(": ")
    if finished.status == "timeout":
        return f"The check took longer than {CHECK_TIMEOUT:.0f} s and was stopped."
    return finished.reason or f"The check did not finish ({finished.status})."
