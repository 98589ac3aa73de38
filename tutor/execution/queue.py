"""The runs waiting for one lesson's worker, and the one running.

    queue = RunQueue(client, memory, started=..., reported=..., ended=..., dropped=...,
                     part_starting=...)    # optional: just before each part is sent
    queue.add(job, cell)      # None when that cell is already waiting or running
    await queue.serve()       # forever: one run at a time, in order
    queue.drop(INTERRUPTED)   # forget the waiting runs (``dropped`` hears of each)

Like a notebook's "run all", the queue stops at the first run that does not go on
(:attr:`Outcome.may_go_on`): the runs still waiting are dropped, and told which run
stopped them (:func:`after_failure`). An interrupt or a restart drops them too. No UI here: the callbacks are how the app hears of it.

``started`` is called once the run's first request is on its way to the worker (just
after it is sent, so the app's work for it overlaps the worker's), and always before
anything else is said of that run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from tutor.execution.executor import Executor, Sent, WorkerMemory
from tutor.execution.jobs import Job, Part
from tutor.execution.outcome import Outcome, sandbox_failed

INTERRUPTED = "not run: interrupted"
RESTARTED = "not run: the worker restarted"


def after_failure(job: Job, outcome: Outcome) -> str:
    """Why the runs waiting behind ``job`` are dropped: ``not run: exercise 2 did not
    finish`` (its code stopped), or ``... did not pass its check``."""
    return f"not run: {job.label} {'did not pass its check' if outcome.code_ran else 'did not finish'}"


@dataclass(eq=False)
class QueuedRun:
    """One run asked for: the job, and who asked (the app: the cell's widget)."""

    job: Job
    owner: object
    sent: Sent | None = None  # its code went to the worker as it was added (``Executor.begin``)


class RunQueue:
    """Runs jobs one at a time, in the order they were added."""

    def __init__(self, client, memory: WorkerMemory, *,
                 started: Callable[[QueuedRun], None],
                 reported: Callable[[QueuedRun, Part, object], None],
                 ended: Callable[[QueuedRun, Outcome], None],
                 dropped: Callable[[QueuedRun, str], None],
                 part_starting: Callable[[QueuedRun, Part], None] | None = None) -> None:
        self._executor = Executor(client, memory, report=self._report, starting=self._part_starting)
        self._started, self._reported, self._ended, self._dropped = started, reported, ended, dropped
        self._part_started = part_starting
        self._queue: asyncio.Queue[QueuedRun] = asyncio.Queue()
        self._waiting: list[QueuedRun] = []
        self._active: QueuedRun | None = None
        self._unannounced: QueuedRun | None = None  # running, ``started`` not called yet

    @property
    def active(self) -> QueuedRun | None:
        """The run in the worker now."""
        return self._active

    @property
    def waiting(self) -> tuple[QueuedRun, ...]:
        return tuple(self._waiting)

    @property
    def idle(self) -> bool:
        """Nothing runs and nothing waits."""
        return self._active is None and not self._waiting

    def holds(self, owner) -> bool:
        """Whether ``owner`` has a run waiting or running."""
        return (self._active is not None and self._active.owner is owner) or any(
            run.owner is owner for run in self._waiting)

    def add(self, job: Job, owner) -> QueuedRun | None:
        """Queue ``job``; None (nothing queued) when ``owner`` already has a run here.
        Added while nothing runs or waits, its code goes to the worker at once, when
        the client can take it (``Executor.begin``): not a turn of the event loop
        later, when the serving task wakes."""
        if self.holds(owner):
            return None
        run = QueuedRun(job, owner)
        if self.idle:
            self._active = run  # running from now, if it can be sent (``part_starting`` names it)
            try:
                run.sent = self._executor.begin(job)
            except Exception:  # noqa: BLE001 - the serving task runs it as any other, and says what failed
                run.sent = None
            if run.sent is None:
                self._active = None
            else:
                self._unannounced = run  # announced by the serving task, as it takes it
        if run.sent is None:
            self._waiting.append(run)
        # Handed to the serving task a turn later (every run, so that they stay in order):
        # by then a sent run's first output is often in, and the task takes the run and
        # its output in one wake-up, not two.
        asyncio.get_running_loop().call_soon(self._queue.put_nowait, run)
        return run

    def drop(self, why: str) -> list[QueuedRun]:
        """Forget the waiting runs now (the running one goes on); ``dropped`` hears of each."""
        self._announce()
        dropped, self._waiting = self._waiting, []
        for run in dropped:
            self._dropped(run, why)
        return dropped

    async def serve(self) -> None:
        """Run what is queued, forever. A failure of the sandbox itself ends that run,
        never the loop."""
        while True:
            run = await self._queue.get()
            if run.sent is None:
                if run not in self._waiting:
                    continue  # dropped while it waited
                self._waiting.remove(run)
                self._active = self._unannounced = run
                # Nothing is awaited between here and the request's sending (the worker is
                # ready): announced on the loop's next turn, the run is on its way.
                asyncio.get_running_loop().call_soon(self._announce)
            else:  # its request left as it was added: a turn of the loop ago
                self._announce()
            try:
                outcome = await self._executor.run(run.job, run.sent)
            except Exception as err:  # noqa: BLE001 - said to the learner, the queue goes on
                outcome = sandbox_failed(run.job, err)
            # A fast cell's last output and its end arrive together: let what was reported
            # be handled before the end's work (a learner waits for the output, not for it).
            await asyncio.sleep(0)
            self._announce()
            self._active = None
            self._ended(run, outcome)
            if not outcome.may_go_on:
                self.drop(after_failure(run.job, outcome))

    def _announce(self) -> None:
        """Call ``started`` for the running run, unless that was done."""
        run, self._unannounced = self._unannounced, None
        if run is not None:
            self._started(run)

    def _report(self, part: Part, event) -> None:
        if self._active is not None:
            self._announce()
            self._reported(self._active, part, event)

    def _part_starting(self, part: Part) -> None:
        """Called in the serving task just before ``part`` is sent (so what it sets in
        the task's context, a session's request tag, travels with the request)."""
        if self._active is not None and self._part_started is not None:
            self._part_started(self._active, part)
