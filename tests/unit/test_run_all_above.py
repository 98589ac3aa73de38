"""Run all above (F4): where the runs of one press stopped is said once, and only when
a run of it, or one before it, stopped them; never when the learner stopped them."""

from __future__ import annotations

from tutor.execution import PartRun, job_for
from tutor.execution.outcome import judge
from tutor.lessons.model import CodeCell
from tutor.sandbox.events import CellFailed, CellFinished
from tutor.ui.run_above import RunAllAbove


def job(n: int):
    return job_for(CodeCell(f"c{n}", "x = 1", n * 10), label=f"cell {n}")


def ran(job, status: str = "ok"):
    failure = CellFailed(1, "TypeError", "unsupported operand", (), None, 1) if status == "error" else None
    return judge(job, [PartRun(job.code, CellFinished(1, status, 0.1, None, False, ()), failure)])


def test_a_failing_run_says_where_it_stopped_and_how_many_did_not_run():
    above = RunAllAbove()
    one, two, three = job(1), job(2), job(3)
    above.queued([one, two, three])
    assert above.ended(one, ran(one)) is None
    said = above.ended(two, ran(two, "error"), where="Datatypes")
    assert said == ("Run all above stopped at cell 2 (“Datatypes”): TypeError: unsupported operand. "
                    "The 1 cell after it did not run. Scroll up to fix it, then press F4 again.")
    assert above.ended(three, ran(three, "error")) is None, "said once; the press is over"


def test_an_unsolved_exercise_is_to_be_solved_and_the_last_run_above_is_said_too():
    above = RunAllAbove()
    one, two = job(1), job(2)
    above.queued([one, two])
    above.ended(one, ran(one))
    said = above.ended(two, ran(two, "error"), exercise=True)
    assert said.startswith("Run all above stopped at cell 2: TypeError") and "did not run" not in said
    assert said.endswith("Scroll up to solve it, then press F4 again.")


def test_a_run_queued_before_the_press_that_stops_it_is_named():
    above = RunAllAbove()
    earlier, one, two = job(7), job(1), job(2)
    above.queued([one, two])
    said = above.ended(earlier, ran(earlier, "error"))
    assert said.startswith("Run all above stopped at cell 7") and "The 2 cells after it did not run." in said


def test_runs_that_go_through_or_that_the_learner_stopped_say_nothing():
    above = RunAllAbove()
    one, two = job(1), job(2)
    above.queued([one, two])
    assert above.ended(one, ran(one)) is None and above.ended(two, ran(two)) is None
    assert above.ended(two, ran(two, "error")) is None, "not a run of a press any more"
    above.queued([one, two])
    above.forget()  # an interrupt or a restart
    assert above.ended(one, ran(one, "interrupted")) is None


def test_the_error_alone_is_said_without_its_advice_and_ends_a_sentence_once():
    above = RunAllAbove()
    one = job(1)
    above.queued([one])
    missing = CellFailed(1, "NameError", "name 'model_2' is not defined", (),
                         "If it is defined in an earlier cell, run that cell first.", 1)
    outcome = judge(one, [PartRun(one.code, CellFinished(1, "error", 0.1, None, False, ()), missing)])
    assert "run that cell first" in outcome.message  # the cell itself shows the advice
    said = above.ended(one, outcome)
    assert said.startswith("Run all above stopped at cell 1: NameError: name 'model_2' is not defined. Scroll up")
