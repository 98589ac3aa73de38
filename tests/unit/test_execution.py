"""The execution core (tutor.execution) against a scripted client: which parts run, in
what order, with which limits and labels, and the one wording of what went wrong."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tutor.execution import (
    CHECK,
    CODE,
    INTERACTIVE,
    SETUP,
    Executor,
    Job,
    Limits,
    Part,
    WorkerMemory,
    block_label,
    job_for,
    sandbox_failed,
)
from tutor.execution import jobs
from tutor.execution.outcome import PASSED
from tutor.lessons.model import CodeCell, Exercise, SetupCell
from tutor.sandbox.events import AdviceGiven, CellFailed, CellFinished, CellStarted, OutputStreamed


class ScriptedClient:
    """Runs nothing: each code's ending comes from ``script`` (code -> ending), where an
    ending is "ok", "lost" (a crash), ("error", ename, message, line) or ("timeout",)."""

    def __init__(self, script: dict | None = None, advice: dict | None = None) -> None:
        self.script = script or {}
        self.advice = advice or {}  # code -> the advice kinds a diagnosed run of it gets
        self.executed: list[tuple[str, str, float | None]] = []  # (label, code, timeout)
        self.diagnosed: list[bool] = []

    async def execute(self, code: str, *, label: str, timeout: float | None, diagnose: bool = False):
        self.executed.append((label, code, timeout))
        self.diagnosed.append(diagnose)
        rid = len(self.executed)
        yield CellStarted(rid)
        for kind in self.advice.get(code, ()) if diagnose else ():
            yield AdviceGiven(rid, kind, 1, f"saw {kind}", "why", "fix")
        yield OutputStreamed(rid, "stdout", f"ran {label}\n")
        ending = self.script.get(code, "ok")
        if ending == "ok":
            yield CellFinished(rid, "ok", 0.5, None, False, ())
        elif ending == "gpu lost":
            yield CellFailed(rid, "AcceleratorError", "CUDA error: device-side assert triggered", (), None, 1)
            yield CellFinished(rid, "error", 0.5, "CUDA can't go on: worker restarted, variables lost.", True, ())
        elif ending == "lost":
            yield CellFinished(rid, "crashed", 0.5, "The worker crashed: variables lost.", True, ())
        elif ending[0] == "timeout":
            yield CellFinished(rid, "timeout", 0.5, "Stopped after 2 s.", False, ())
        else:
            _, ename, message, line, *advice = ending  # ("error", ename, message, line[, advice])
            yield CellFailed(rid, ename, message, (), advice[0] if advice else None, line)
            yield CellFinished(rid, "error", 0.5, None, False, ())


SETUP_A = SetupCell("import math\n", 3)
CELL = CodeCell("c1", "x = 1\n", 6, setup=(SETUP_A,))
RAISES = CodeCell("c2", "1 / 0\n", 10, raises="ZeroDivisionError|ValueError")
EXERCISE = Exercise("ex", "y = ...\n", "assert y == 2, 'y should be 2'\n", "y = 2\n", line=20, check_line=24,
                    solution_line=28, setup=(SETUP_A,))


async def run(job: Job, client: ScriptedClient, memory: WorkerMemory | None = None):
    reports: list[tuple[str, object]] = []
    started: list[Part] = []
    executor = Executor(client, memory, report=lambda part, event: reports.append((part.phase, event)),
                        starting=started.append)
    return await executor.run(job), reports, started


def test_a_cell_job_has_its_setup_then_its_code_with_the_limits_given():
    job = job_for(CELL, label="cell 1")
    assert [(p.phase, p.label, p.line, p.timeout) for p in job.parts] == [
        (SETUP, "setup", 4, None), (CODE, "cell 1", 7, None)]
    headless = job_for(CELL, label="cell 1", limits=Limits.every(9))
    assert [p.timeout for p in headless.parts] == [9, 9]


def test_an_exercise_is_checked_with_time_limits_unless_run_as_a_plain_cell():
    checked = job_for(EXERCISE, label="exercise 2", code="y = 2\n")
    assert [(p.phase, p.code, p.timeout) for p in checked.parts] == [
        (SETUP, SETUP_A.code, None), (CODE, "y = 2\n", INTERACTIVE.exercise),
        (CHECK, EXERCISE.check, INTERACTIVE.check)]
    assert checked.check.line == 25 and checked.is_check
    plain = job_for(EXERCISE, label="exercise 2", check=False)
    assert plain.check is None and plain.code.code == EXERCISE.starter and plain.code.timeout is None


def test_labels_number_cells_and_exercises_alike():
    assert block_label(CELL, 3) == "cell 3" and block_label(EXERCISE, 4) == "exercise 4"


def test_a_new_kind_of_block_plugs_in_with_one_builder(monkeypatch):
    @dataclass(frozen=True)
    class ShellCell:
        id: str
        command: str
        line: int

    def shell_job(block, label, code, code_line, check, limits):
        source = f"import subprocess; subprocess.run({block.command!r}, shell=True)"
        return Job(block.id, label, Part(CODE, source, label, block.line + 1, limits.cell))

    monkeypatch.setitem(jobs.BUILDERS, ShellCell, shell_job)
    job = job_for(ShellCell("sh1", "ls", 5), label="cell 7")
    assert jobs.runs(ShellCell("sh1", "ls", 5)) and "subprocess.run('ls'" in job.code.code
    with pytest.raises(TypeError, match="does not run"):
        job_for(SETUP_A, label="x")


async def test_setup_runs_once_per_worker_and_again_after_the_worker_lost_its_variables():
    client = ScriptedClient({"boom()\n": "lost"})
    memory = WorkerMemory()
    outcome, _, started = await run(job_for(CELL, label="cell 1"), client, memory)
    assert outcome.ok and [p.phase for p in started] == [SETUP, CODE]
    await run(job_for(CELL, label="cell 1"), client, memory)
    assert [label for label, _, _ in client.executed] == ["setup", "cell 1", "cell 1"]
    assert memory.has_run("c1")
    crash = CodeCell("c9", "boom()\n", 30, setup=(SETUP_A,))
    outcome, _, _ = await run(job_for(crash, label="cell 9"), client, memory)
    assert not outcome.ok and outcome.status == "crashed" and not memory.has_run("c1")
    await run(job_for(CELL, label="cell 1"), client, memory)
    assert [label for label, _, _ in client.executed][-2:] == ["setup", "cell 1"]


async def test_every_event_is_reported_with_its_phase():
    outcome, reports, _ = await run(job_for(EXERCISE, label="exercise 2", code="y = 2\n"), ScriptedClient())
    assert outcome.passed and outcome.feedback == PASSED and outcome.message == ""
    phases = [phase for phase, event in reports if isinstance(event, CellStarted)]
    assert phases == [SETUP, CODE, CHECK]
    assert outcome.duration == 1.0, "the code's and the check's time, not the setup's"


async def test_a_failing_setup_stops_the_job_before_the_code():
    client = ScriptedClient({SETUP_A.code: ("error", "ModuleNotFoundError", "No module named 'math'", 1)})
    outcome, _, _ = await run(job_for(CELL, label="cell 1"), client)
    assert outcome.status == "setup" and not outcome.ok and not outcome.may_go_on
    assert outcome.message == "The lesson's hidden setup code failed: ModuleNotFoundError: No module named 'math'"
    assert outcome.line == 4 and outcome.finished.status == "error"
    assert [label for label, _, _ in client.executed] == ["setup"]


async def test_a_failing_cell_names_its_error_and_line():
    client = ScriptedClient({"x = 1\n": ("error", "NameError", "name 'q' is not defined\nmore", 1)})
    outcome, _, _ = await run(job_for(CELL, label="cell 1"), client)
    assert outcome.message == "NameError: name 'q' is not defined"
    assert outcome.line == 7 and outcome.missing_name and not outcome.may_go_on


async def test_a_raises_cell_passes_only_when_it_raises_one_of_its_exceptions():
    client = ScriptedClient({"1 / 0\n": ("error", "ValueError", "bad", 1)})
    outcome, _, _ = await run(job_for(RAISES, label="cell 2"), client)
    assert outcome.ok and outcome.expected_error and outcome.code_ran
    assert outcome.message == "raised ValueError, as it should"
    wrong = ScriptedClient({"1 / 0\n": ("error", "KeyError", "'k'", 1)})
    outcome, _, _ = await run(job_for(RAISES, label="cell 2"), wrong)
    assert not outcome.ok and outcome.message == "expected ZeroDivisionError or ValueError, but it raised KeyError: 'k'"
    fixed, _, _ = await run(job_for(RAISES, label="cell 2", code="pass\n"), ScriptedClient())
    assert fixed.message == "expected ZeroDivisionError or ValueError, but the cell raised nothing"
    assert not fixed.ok and fixed.may_go_on, "the learner's fixed cell ran: cells queued after it still run"


async def test_a_check_reports_the_assertion_or_why_it_could_not_run():
    assertion = ScriptedClient({EXERCISE.check: ("error", "AssertionError", "y should be 2", 1)})
    outcome, _, _ = await run(job_for(EXERCISE, label="exercise 2"), assertion)
    assert outcome.passed is False and outcome.feedback == "y should be 2" and outcome.line == 25
    crashed = ScriptedClient({EXERCISE.check: ("error", "KeyError", "'k'", 1)})
    outcome, _, _ = await run(job_for(EXERCISE, label="exercise 2"), crashed)
    assert outcome.message == "The check could not run: KeyError: 'k'"
    slow = ScriptedClient({EXERCISE.check: ("timeout",)})
    outcome, _, _ = await run(job_for(EXERCISE, label="exercise 2"), slow)
    assert outcome.message == "The check did not finish: Stopped after 2 s."


async def test_code_that_fails_before_the_check_skips_the_check():
    client = ScriptedClient({"y = ...\n": ("error", "SyntaxError", "invalid syntax", 1)})
    outcome, _, _ = await run(job_for(EXERCISE, label="exercise 2"), client)
    assert outcome.passed is False and outcome.status == "error"
    assert outcome.message == "SyntaxError: invalid syntax (the check did not run)"
    assert [label for label, _, _ in client.executed] == ["setup", "exercise 2"]



async def test_the_verdict_on_code_that_failed_does_not_repeat_the_advice_shown_above_it():
    advised = ("error", "NameError", "name 'torch' is not defined", 1, "If it is defined in an earlier cell, ...")
    outcome, _, _ = await run(job_for(EXERCISE, label="exercise 2"), ScriptedClient({"y = ...\n": advised}))
    assert outcome.message == "NameError: name 'torch' is not defined (the check did not run)"
    plain, _, _ = await run(job_for(CELL, label="cell 3"), ScriptedClient({"x = 1\n": advised}))
    assert plain.message == "NameError: name 'torch' is not defined (If it is defined in an earlier cell, ...)"


def test_a_sandbox_failure_is_an_outcome_that_stops_the_queue():
    outcome = sandbox_failed(job_for(EXERCISE, label="exercise 2"), OSError("pipe closed"))
    assert outcome.passed is False and not outcome.may_go_on and outcome.finished is None
    assert outcome.message == "The sandbox failed: OSError: pipe closed"


async def test_a_name_error_with_cells_above_not_run_in_this_worker_gets_advice():
    from tutor.execution.outcome import cells_not_run_advice

    client = ScriptedClient({"x = 1\n": ("error", "NameError", "name 'q' is not defined", 1)})
    outcome, _, _ = await run(job_for(CELL, label="cell 3"), client)
    ran = {"a"}.__contains__
    assert cells_not_run_advice(outcome, ["a"], ran) == ""
    assert cells_not_run_advice(outcome, ["a", "b"], ran).startswith("A cell above this one has not run")
    assert cells_not_run_advice(outcome, ["b", "c"], ran).startswith("2 cells above this one have not run")
    fine, _, _ = await run(job_for(CELL, label="cell 3"), ScriptedClient())
    assert cells_not_run_advice(fine, ["b"], ran) == ""


# -- the training-loop diagnosis ------------------------------------------------------

def test_only_the_blocks_own_code_is_diagnosed_and_diagnose_off_switches_it_off():
    job = job_for(EXERCISE, label="exercise 2", code="y = 2\n")
    assert [(p.phase, p.diagnose) for p in job.parts] == [(SETUP, False), (CODE, True), (CHECK, False)]
    assert job_for(CELL, label="cell 1").code.diagnose
    quiet = CodeCell("c3", "x = 1\n", 30, diagnose="off")
    assert not job_for(quiet, label="cell 3").code.diagnose
    shown = CodeCell("c4", "x = 1\n", 40, diagnose="zero-grad")
    assert job_for(shown, label="cell 4").code.diagnose  # shown on purpose: still said


async def test_the_advice_a_run_gets_is_kept_with_its_code_and_reported():
    client = ScriptedClient(advice={CELL.code: ("zero-grad", "loss-flat"), SETUP_A.code: ("forward-call",)})
    outcome, reports, _ = await run(job_for(CELL, label="cell 1"), client)
    assert client.diagnosed == [False, True]  # the setup is not the learner's code: never watched
    assert [a.kind for a in outcome.diagnosis] == ["zero-grad", "loss-flat"]
    assert [e.kind for phase, e in reports if isinstance(e, AdviceGiven)] == ["zero-grad", "loss-flat"]
    assert outcome.ok  # advice is a hint, never a failure


def test_the_running_label_outlives_a_worker_that_gets_ready_after_the_run_was_asked_for():
    from tutor.execution.session import SandboxSession
    from tutor.sandbox.events import WorkerState, WorkerStateChanged

    session = SandboxSession("long", client=None)  # starting
    session.running_label = "cell 1"  # F5 pressed at once: the run waits for the worker
    for state in (WorkerState.READY, WorkerState.RUNNING):
        session.observe(WorkerStateChanged(state, None, None))
    assert session.running_label == "cell 1"
    session.observe(WorkerStateChanged(WorkerState.CRASHED, "killed", None))
    assert session.running_label is None  # a run that ended, however it ended, is not named


async def test_an_error_that_cost_the_worker_says_so_after_the_error():
    client = ScriptedClient({"boom()\n": "gpu lost"})
    outcome, _, _ = await run(job_for(CodeCell("c3", "boom()\n", 12), label="cell 3"), client)
    assert not outcome.ok and not outcome.may_go_on
    assert outcome.message == ("AcceleratorError: CUDA error: device-side assert triggered "
                               "CUDA can't go on: worker restarted, variables lost.")
