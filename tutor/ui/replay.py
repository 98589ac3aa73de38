"""Runs from before this app attached to a lesson's session: their events, replayed by
the session host (``CellReplayed``), shown in the cells they belong to, ended the way
a live run ends.

The app that started a run tagged each of its requests (a *part*: a setup cell, the
code, an exercise's check) with the lesson, the cell, the run and the part's phase
(``tutor/ui/run_reports.py``). Here the parts of one run are gathered again, each
event goes to its cell as a live one would (``show_reported``: a check's output stays
hidden), and when the run is over it is judged by the same rules as a live run
(``tutor.execution.judge``), and it ends as a live run ends (``RunDisplay.show_ended``: shown, and
recorded in the learner's progress, which stays here).
The run still going is ``running``: the status line names it, and Stop (F7) reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tutor.execution import CHECK, CODE, SETUP, Job, PartRun, job_for
from tutor.execution.outcome import judge
from tutor.sandbox.events import CellFailed, CellFinished, CellStarted


@dataclass
class _Run:
    """One replayed run of a cell: its job (rebuilt from the lesson) and its parts so far."""

    cell: object
    job: Job
    runs: list[PartRun] = field(default_factory=list)
    failure: CellFailed | None = None  # the error of the part running now


class ReplayedRuns:
    """Shows a lesson screen's replayed events."""

    def __init__(self, screen) -> None:
        """``screen`` is the lesson screen: its session, page and ``run_display``."""
        self.screen = screen
        self.running: _Run | None = None
        self._runs: dict[str, _Run] = {}  # the tag's run id -> the run
        self._showing = False

    async def show_pending(self) -> None:
        """Show what the session's worker ran before this app attached (and goes on
        running), each event once its cell's step is filled."""
        if self._showing:
            return  # the call under way shows these too, in order
        self._showing = True
        screen, session = self.screen, self.screen.session
        try:
            while session.replayed and screen.is_attached:
                pending, session.replayed = session.replayed, []
                for index, replayed in enumerate(pending):
                    cell = self.cell_of(replayed)
                    if cell is not None and not screen.page.shows(cell):
                        await screen.page.fill_step_of(cell)
                    if not screen.is_attached:  # closed meanwhile: the lesson's next screen shows the rest
                        session.replayed[:0] = pending[index:]
                        return
                    self.show(replayed)
                screen.show_status()
        finally:
            self._showing = False

    def cell_of(self, replayed):
        """The cell of this lesson a replayed event belongs to, or None."""
        tag = replayed.tag
        if tag.get("lesson") != self.screen.lesson.id or not isinstance(tag.get("run"), str):
            return None
        return self.screen.page.cell(tag.get("cell")) if isinstance(tag.get("cell"), str) else None

    def show(self, replayed) -> None:
        """Show one replayed event in its cell as a live one; a run's first event starts it,
        its last part ends it."""
        tag = replayed.tag
        screen = self.screen
        cell = self.cell_of(replayed)
        if cell is None:
            return  # another lesson's, or a cell this version of the lesson does not have
        phase = tag.get("phase") if tag.get("phase") in (SETUP, CODE, CHECK) else CODE
        run = self._runs.get(tag["run"])
        event = replayed.event
        if run is None:
            job = job_for(cell.block, label=cell.label, code=cell.code, check=tag.get("check") is True)
            run = self._runs[tag["run"]] = _Run(cell, job)
            cell.show_run_started(job)
        if isinstance(event, CellStarted):
            self.running = run
            screen.session.running_label = f"{cell.label} (from before)"
        elif isinstance(event, CellFailed):
            run.failure = event
        if isinstance(event, CellFinished):
            self._part_finished(tag["run"], run, phase, event)
        elif cell.show_reported(phase, event):
            screen.run_display.reveal(cell)

    def _part_finished(self, run_id: str, run: _Run, phase: str, finished: CellFinished) -> None:
        """A part of a replayed run finished; if the run is over, judge it and end it as a
        live run ends."""
        screen = self.screen
        screen.session.observe(finished)
        job = run.job
        part = {CODE: job.code, CHECK: job.check}.get(phase) or (job.setup[0] if job.setup else job.code)
        run.runs.append(PartRun(part, finished, run.failure))
        run.failure = None
        over = (finished.status != "ok" or phase == CHECK or (phase == CODE and not job.is_check))
        if not over:
            return
        if self.running is run:
            self.running = None
            screen.session.running_label = None
        del self._runs[run_id]
        screen.run_display.show_ended(run.cell, job, judge(job, run.runs))
