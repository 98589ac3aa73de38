"""Asking for runs: which cells a key runs (this one; this one, then on to the next;
all those above it, F4), each queued once, and what the cell shows meanwhile.

A run asked for while nothing runs or waits goes to the worker at once, as it is added
to the queue (``RunQueue.add``, when the worker is free and no setup must run first),
and its start is shown here, in the key's own handler, after the request has left:
not by a ``RunStarted`` message a moment later (a round trip through the screen's
message queue, which came on the way of the run's first output). A run behind others shows "queued", and its start comes with
``RunStarted`` when the queue gets to it (``tutor/ui/run_reports.py``).
"""

from __future__ import annotations

from tutor.execution import Job, job_for
from tutor.ui.widgets.cell import RunnableCell


class RunRequests:
    """The lesson screen's requests for runs."""

    def __init__(self, screen) -> None:
        self._screen = screen

    def cell_for_key(self) -> RunnableCell | None:
        """The cell a key acts on: the current one (the first, when none is yet)."""
        page = self._screen.page
        if page.current is None and page.cells:
            page.set_current(page.cells[0])
        return page.current

    def run(self, cell: RunnableCell | None) -> None:
        if cell is not None:
            self.enqueue(cell)

    def run_and_move_on(self, cell: RunnableCell | None) -> None:
        """Run ``cell`` and make the next one current."""
        if cell is None:
            return
        self.enqueue(cell)
        cells = self._screen.page.cells
        index = cells.index(cell)
        if index + 1 < len(cells):
            self._screen.page.bring(cells[index + 1])

    def run_above(self, cell: RunnableCell | None) -> None:
        """Run every cell above ``cell``, in order (exercises are not checked)."""
        if cell is None:
            return
        screen = self._screen
        cells = screen.page.cells
        above = cells[:cells.index(cell)]
        if not above:
            screen.app.notify("There are no cells above this one.", timeout=3)
        queued = (self.enqueue(other, as_check=False) for other in above)
        screen.above.queued([job for job in queued if job is not None])

    def enqueue(self, cell: RunnableCell, *, as_check: bool | None = None) -> Job | None:
        """Queue a run of ``cell``, and say which; an exercise is checked unless
        ``as_check`` is False. A second press while it waits or runs changes nothing (None)."""
        if not cell.accepts_run():
            return None
        screen = self._screen
        job = job_for(cell.block, label=cell.label, code=cell.code, check=as_check is not False)
        next_up = screen.runs.idle
        run = screen.runs.add(job, cell)
        if run is None:
            return None
        cell.show_queued(job, waiting=not next_up)
        if next_up and screen.run_display.can_start_at_once(cell):
            screen.reporter.start_shown(run)
            screen.run_display.start(cell, job)
        return job
