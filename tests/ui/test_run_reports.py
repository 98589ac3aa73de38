"""The run queue's callbacks as the lesson screen's messages (tutor/ui/run_reports.py):
each becomes one fact posted, a run's start and end come with RunStarted and RunEnded
(not as RunReported; no RunStarted for a run whose start the screen showed itself, and
its reports are shown at once, not posted), the code's output is kept for export (a
check's is not), a finished cell is told to the session at once, and each request is
tagged for sessions."""

from __future__ import annotations

import contextvars

from tutor.execution import CHECK, CODE, job_for
from tutor.execution.outcome import sandbox_failed
from tutor.execution.queue import QueuedRun
from tutor.lessons.model import CodeCell
from tutor.sandbox.events import CellFinished, CellStarted, OutputStreamed
from tutor.sessions.client import REQUEST_TAG
from tutor.ui.messages import RunDropped, RunEnded, RunReported, RunStarted
from tutor.ui.run_reports import RunReporter


class Keeper:
    def __init__(self) -> None:
        self.said: list[tuple] = []

    def started(self, block_id):
        self.said.append(("started", block_id))

    def add(self, block_id, event):
        self.said.append(("add", block_id, type(event).__name__))

    def ended(self, block_id):
        self.said.append(("ended", block_id))


class Session:
    def __init__(self) -> None:
        self.observed: list = []

    def observe(self, event) -> None:
        self.observed.append(event)


def reporter(title: str | None = "Tensors", shown: list | None = None):
    posted, keeper, session = [], Keeper(), Session()
    def show(cell, phase, event) -> None:
        (shown if shown is not None else []).append((cell, phase, event))

    return (RunReporter(posted.append, session, keeper, "basics", lambda cell: title, show=show),
            posted, keeper, session)


def queued() -> QueuedRun:
    return QueuedRun(job_for(CodeCell("c1", "print(1)", 10), label="cell 1"), owner="the cell's widget")


def test_each_callback_posts_one_fact_about_the_cell():
    report, posted, keeper, session = reporter()
    run = queued()
    printed, finished = OutputStreamed(1, "stdout", "1\n"), CellFinished(1, "ok", 0.1, None, False, ())
    report.started(run)
    report.reported(run, run.job.code, CellStarted(1))
    report.reported(run, run.job.code, printed)
    report.reported(run, run.job.code, finished)
    outcome = sandbox_failed(run.job, OSError("gone"))
    report.ended(run, outcome)
    report.dropped(run, "not run: interrupted")
    assert [type(m) for m in posted] == [RunStarted, RunReported, RunEnded, RunDropped]
    assert all(m.cell == "the cell's widget" and m.job is run.job for m in posted)
    assert posted[1].phase == CODE and posted[1].event is printed
    assert posted[2].outcome is outcome and posted[3].why == "not run: interrupted"
    assert session.observed == [finished]  # at once: the queue's next run reads it
    # what the cell shows is kept for ``tutor export``; a start and an end show nothing
    assert keeper.said == [("started", "c1"), ("add", "c1", "OutputStreamed"), ("ended", "c1")]


def test_a_checks_output_is_shown_by_its_verdict_not_kept_for_export():
    report, posted, keeper, _ = reporter()
    run = queued()
    check = run.job.code.__class__(CHECK, "assert True", "check", 12, None)
    report.reported(run, check, OutputStreamed(1, "stdout", "secret\n"))
    assert keeper.said == [] and posted[0].phase == CHECK


def test_each_request_is_tagged_with_its_lesson_cell_and_step():
    report, *_ = reporter()
    run = queued()

    def tag(report):
        report.part_starting(run, run.job.code)
        return REQUEST_TAG.get()

    tagged = contextvars.copy_context().run(tag, report)
    assert tagged == {"lesson": "basics", "cell": "c1", "run": f"{id(run):x}", "phase": CODE, "check": False,
                      "title": "Tensors"}
    untitled, *_ = reporter(title=None)  # a cell whose step is not known: its label
    assert contextvars.copy_context().run(tag, untitled)["title"] == "cell 1"


def test_a_cells_title_is_looked_up_until_its_step_is_known_then_kept():
    titles = [None, "Tensors", "never asked"]
    asked = []
    posted, keeper, session = [], Keeper(), Session()

    def title_of(cell):
        asked.append(cell)
        return titles[len(asked) - 1]

    report = RunReporter(posted.append, session, keeper, "basics", title_of, show=lambda *_: None)
    run = queued()

    def tag():
        report.part_starting(run, run.job.code)
        return REQUEST_TAG.get()["title"]

    said = [contextvars.copy_context().run(tag) for _ in range(3)]
    assert said == ["cell 1", "Tensors", "Tensors"]  # not built yet (its label), then its step's
    assert len(asked) == 2


def test_a_run_whose_start_the_screen_showed_gets_no_run_started_and_shows_its_reports_at_once():
    at_once: list = []
    report, posted, keeper, _ = reporter(shown=at_once)
    shown, later = queued(), queued()
    report.start_shown(shown)  # asked for while nothing ran: the screen showed its start itself
    report.started(shown)
    printed = OutputStreamed(1, "stdout", "1\n")
    report.reported(shown, shown.job.code, printed)
    assert posted == [] and at_once == [("the cell's widget", CODE, printed)]
    report.ended(shown, sandbox_failed(shown.job, OSError("gone")))  # its end is a message, after its output
    report.started(later)  # a run that waited: its start is a message, and its output after it
    report.reported(later, later.job.code, printed)
    assert [type(m) for m in posted] == [RunEnded, RunStarted, RunReported] and posted[1].job is later.job
    assert len(at_once) == 1
    assert keeper.said[0] == ("started", "c1")  # its output is still kept for export
    posted.clear()
    dropped = queued()
    report.start_shown(dropped)
    report.dropped(dropped, "not run: interrupted")  # never went to the worker
    report.started(later)
    assert [type(m) for m in posted] == [RunDropped, RunStarted]
