"""One lesson's runs, shown where the learner sees them: a run's start, each thing it
reported, its end or why it was dropped, handed to its cell; the page kept still or let
go; the status line told which cell runs; a run that ended recorded as progress.

The lesson screen's handlers of the run queue's messages (``tutor/ui/run_reports.py``)
call these, and so does a run asked for while nothing else runs, whose start is shown
at once by the key's action (``tutor/ui/run_requests.py``), and a run from before the
app attached (``tutor/ui/replay.py``), which ends through :meth:`RunDisplay.show_ended`
as a live one does.
"""

from __future__ import annotations

from tutor.execution import Job, Outcome
from tutor.execution.outcome import cells_not_run_advice
from tutor.ui.widgets.cell import RunnableCell
from tutor.ui.widgets.exercise import ExerciseView


LAYOUT_WAIT, LAYOUT_TRIES = 0.02, 25  # a new part's first layout: looked for each 20 ms, up to 0.5 s


class RunDisplay:
    """Shows one lesson screen's runs in its cells."""

    def __init__(self, screen) -> None:
        self._screen = screen

    def can_start_at_once(self, cell: RunnableCell) -> bool:
        """Whether a start of ``cell`` can be shown without waiting (its widgets exist)."""
        return self._screen.page.shows(cell)

    async def started(self, cell: RunnableCell, job: Job) -> None:
        """A queued run began in the worker: its step is filled first, if need be."""
        if not self._screen.page.shows(cell):
            await self._screen.page.fill_step_of(cell)  # a run shows in the cell's widgets
        self.start(cell, job)

    def start(self, cell: RunnableCell, job: Job) -> None:
        """Show that ``job`` runs in ``cell`` (its widgets exist)."""
        screen, page = self._screen, self._screen.page
        cell.ghost = screen.ghosts.ghost(cell.block, job.code.code)
        if cell is page.current:
            page.let_go_for(cell)
        elif page.is_above_view(cell):
            page.keep_view()  # "run all above": output up there does not push the page
        cell.show_run_started(job)
        screen.session.running_label = cell.label
        screen.show_status()

    def reported(self, cell: RunnableCell, phase: str, event) -> None:
        if cell.show_reported(phase, event):
            self.reveal(cell)

    def reveal(self, cell: RunnableCell) -> None:
        """Scroll what the learner's own run shows into view (not for "run all above")."""
        self._reveal_once_laid_out(cell, LAYOUT_TRIES)

    def _reveal_once_laid_out(self, cell: RunnableCell, tries: int) -> None:
        # A part just shown (a chart) has no size until a layout or two later: scrolled
        # to before that, the page stopped short of it. Asked again each time: the
        # learner may have moved to another cell meanwhile.
        if cell is not self._screen.current:
            return
        part = cell.last_part()
        if part.size.height or not tries:
            part.scroll_visible(animate=False)
        else:  # a frame later (refresh callbacks can all run before the next layout)
            self._screen.set_timer(LAYOUT_WAIT, lambda: self._reveal_once_laid_out(cell, tries - 1))

    def ended(self, cell: RunnableCell, job: Job, outcome: Outcome) -> None:
        """A run of this app's queue is over: shown with its advice, and, when it stopped
        "run all above", said where the learner is."""
        screen = self._screen
        screen.session.running_label = None
        screen.show_status()
        screen.controls.leave_notes()
        cells = screen.cells
        above = [other.cell_id for other in cells[:cells.index(cell)]]
        advice = cells_not_run_advice(outcome, above, screen.session.memory.has_run)
        if advice:
            outcome.advice.append(advice)
        self.show_ended(cell, job, outcome)
        stopped = screen.above.ended(job, outcome, where=screen.step_title(cell),
                                     exercise=isinstance(cell, ExerciseView))
        if stopped:
            screen.app.notify(stopped, severity="warning", timeout=12, markup=False)  # it quotes the learner's error

    def show_ended(self, cell: RunnableCell, job: Job, outcome: Outcome) -> None:
        """A run is over (this app's, or one from before it attached): shown, and recorded."""
        cell.show_run_ended(job, outcome)
        self._screen.progress.run_ended(cell.cell_id, job, outcome)
        self.reveal(cell)

    def dropped(self, cell: RunnableCell, job: Job, why: str) -> None:
        cell.show_run_dropped(job, why)
