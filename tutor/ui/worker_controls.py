"""The learner's hold on a lesson's worker: stop what runs (F7, Ctrl+C), start the
worker afresh (F8, once the learner says yes), and the notes a session keeps of what
the worker holds.

Each request to the worker is a background task of the lesson screen (group
``control``), so a failure is said by the screen (``ShowsWorkerFailures``). Runs still
waiting are dropped at once, in the queue (``tutor/execution/queue.py``): an interrupt
stops the run in the worker, never the ones after it.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from tutor.execution.queue import INTERRUPTED, RESTARTED, RunQueue
from tutor.execution.session import SandboxSession
from tutor.ui.replay import ReplayedRuns

RESTART_QUESTION = ("Restart the worker? Every variable is lost; the cells have to run again "
                    "(F4 runs those above).")


class WorkerControls:
    """Interrupt and restart for one lesson screen's worker."""

    def __init__(self, screen: Screen, session: SandboxSession, runs: RunQueue, replay: ReplayedRuns, *,
                 stopping: Callable[[], None] = lambda: None) -> None:
        self._screen = screen
        self._session = session
        self._runs = runs
        self._replay = replay
        self._stopping = stopping  # told before the learner's interrupt or restart drops runs

    @property
    def running(self) -> bool:
        """A run is in the worker now: this app's, or one from before it attached."""
        return self._runs.active is not None or self._replay.running is not None

    def interrupt(self) -> None:
        """Stop the run in the worker and drop those waiting; say so when nothing runs."""
        runs = self._runs
        if runs.idle and self._replay.running is None:
            self._screen.app.notify("Nothing is running.", timeout=2)
            return
        self._stopping()
        runs.drop(INTERRUPTED)
        if self.running:
            self._ask_worker(self._session.client.interrupt(), "interrupting the worker")

    def ask_restart(self) -> None:
        """Restart once the learner says yes: every variable is lost."""
        from tutor.ui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.restart()

        self._screen.app.push_screen(ConfirmScreen(RESTART_QUESTION, yes="Restart"), answered)

    def restart(self) -> None:
        """Drop the waiting runs and start a fresh worker, without asking."""
        self._stopping()
        self._runs.drop(RESTARTED)
        self._ask_worker(self._session.client.restart(), "restarting the worker")

    def leave_notes(self) -> None:
        """Tell the session what this worker holds, for a tutor that attaches later."""
        leave_notes = getattr(self._session.client, "leave_notes", None)
        if leave_notes is not None:
            self._ask_worker(leave_notes(self._session.memory.snapshot()), "noting what the worker holds")

    def _ask_worker(self, request, what: str) -> None:
        """Send ``request`` as a background task of the screen, named ``what`` should it fail."""
        self._screen.run_worker(request, group="control", name=what, exit_on_error=False)
