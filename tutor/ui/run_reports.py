"""What the run queue says of one lesson's runs, as the lesson screen's messages.

The queue (``tutor/execution/queue.py``) calls back in its own task; here each call
becomes a fact posted to the screen (``RunStarted``, ``RunReported``, ``RunEnded``,
``RunDropped``: ``tutor/ui/messages.py``) and nothing else touches a widget. On the way,
a run's output is kept for ``tutor export`` (an ``OutputKeeper``), a finished cell is
told to the session at once (the queue's next run reads what the worker holds), and
each request is tagged with its lesson and cell, so that a tutor attaching to the
session later shows the run in the right cell (``tutor/ui/replay.py``).

A run whose start the screen showed at once, as the key was pressed (nothing ran or
waited: ``tutor/ui/run_requests.py``), gets no ``RunStarted``, and what it reports is
handed straight to the screen (``show``) instead of posted: the queue's task runs on
the app's own event loop, where Textual lets async code touch widgets, and nothing of
that run can be waiting in the screen's message queue to be overtaken. A message each
cost a learner's trivial cell about 0.1 ms of the 0.3 the UI may add. The output of a
run that waited follows its ``RunStarted`` through the message queue, in order.
"""

from __future__ import annotations

from collections.abc import Callable

from tutor.cell_outputs import OutputKeeper
from tutor.execution import CODE, Outcome, Part
from tutor.execution.queue import QueuedRun
from tutor.execution.session import SandboxSession
from tutor.sandbox.events import CellFinished, CellStarted
from tutor.sessions.client import REQUEST_TAG
from tutor.ui.messages import RunDropped, RunEnded, RunReported, RunStarted


class RunReporter:
    """The run queue's callbacks for one lesson screen (``callbacks`` is what
    ``RunQueue`` takes)."""

    def __init__(self, post: Callable, session: SandboxSession, outputs: OutputKeeper, lesson_id: str,
                 title_of: Callable[[object], str | None], show: Callable[[object, str, object], None]) -> None:
        self._post = post  # the screen's post_message
        self._show = show  # (cell, phase, event) shown at once: for a run whose start the screen showed
        self._session = session
        self._outputs = outputs
        self._lesson_id = lesson_id
        self._title_of = title_of  # a cell -> the title of its step
        self._shown: QueuedRun | None = None  # the run whose start the screen showed, until it ends
        self._titles: dict[object, str] = {}  # a cell -> its step's title, for the request tags

    def start_shown(self, run: QueuedRun) -> None:
        """The screen showed ``run``'s start itself: no ``RunStarted`` for it, and its
        reports are shown at once."""
        self._shown = run

    @property
    def callbacks(self) -> dict[str, Callable]:
        return {"started": self.started, "reported": self.reported, "ended": self.ended,
                "dropped": self.dropped, "part_starting": self.part_starting}

    def started(self, run: QueuedRun) -> None:
        self._outputs.started(run.job.block_id)
        if run is not self._shown:
            self._post(RunStarted(run.owner, run.job))

    def part_starting(self, run: QueuedRun, part: Part) -> None:
        # In the queue's task, just before the part is sent: a session keeps this with
        # the request, so a tutor that attaches later shows its output in this cell.
        title = self._titles.get(run.owner)
        if title is None:  # a step's title does not change: looked up once per cell (once built)
            title = self._title_of(run.owner)
            if title is not None:
                self._titles[run.owner] = title
        REQUEST_TAG.set({"lesson": self._lesson_id, "cell": run.job.block_id, "run": f"{id(run):x}",
                         "phase": part.phase, "check": run.job.is_check, "title": title or run.job.label})

    def reported(self, run: QueuedRun, part: Part, event) -> None:
        if isinstance(event, (CellStarted, CellFinished)):
            # RunStarted and RunEnded tell the cell (a message each delayed the output);
            # a finished cell is told to the session at once (the queue's next run reads it).
            if isinstance(event, CellFinished):
                self._session.observe(event)
            return
        if run is self._shown:
            self._show(run.owner, part.phase, event)  # the hot path of a flood: no message made
        else:
            self._post(RunReported(run.owner, run.job, part.phase, event))
        if part.phase == CODE:
            self._outputs.add(run.job.block_id, event)  # kept for ``tutor export`` once shown

    def ended(self, run: QueuedRun, outcome: Outcome) -> None:
        self._outputs.ended(run.job.block_id)
        if run is self._shown:
            self._shown = None
        self._post(RunEnded(run.owner, run.job, outcome))

    def dropped(self, run: QueuedRun, why: str) -> None:
        if run is self._shown:
            self._shown = None
        self._post(RunDropped(run.owner, run.job, why))
