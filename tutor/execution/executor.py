"""Running a job in a sandbox worker: the one routine behind the app's runs, ``tutor
run``, ``tutor check --run`` and the lesson tests (as rustlings' ``RunnableExercise``
serves both its watch mode and ``dev check``).

    executor = Executor(client, memory, report=lambda part, event: ...)
    outcome = await executor.run(job)
    # or: send the code in this very turn, when the client can take it (``submit``)
    sent = executor.begin(job)
    outcome = await executor.run(job, sent)

Setup parts run once per worker: ``memory`` (a :class:`WorkerMemory`) remembers which
did, and which blocks' code ran to its end, until the worker loses its variables.
Every event of every part goes to ``report`` with the part it belongs to; ``starting``
hears of each part just before it runs. No UI here: the app turns reports into messages.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Callable

from tutor.execution.jobs import Job, Part
from tutor.execution.outcome import Outcome, PartRun, judge
from tutor.sandbox.events import AdviceGiven, CellFailed, CellFinished

Report = Callable[[Part, object], None]  # (the part, one of its sandbox events)
Sent = AsyncIterator  # the events of a part whose request went to the worker (``Executor.begin``)


class WorkerMemory:
    """What the current worker process holds: which setup parts ran, and which blocks'
    code ran to its end. Forgotten when the worker starts again."""

    def __init__(self) -> None:
        self._setups: set = set()
        self._ran: set[str] = set()

    def forget(self) -> None:
        self._setups.clear()
        self._ran.clear()

    def setup_needed(self, key) -> bool:
        return key not in self._setups

    def setup_ran(self, key) -> None:
        self._setups.add(key)

    def block_ran(self, block_id: str) -> None:
        """The block's code ran to its end in this worker (its names exist now)."""
        self._ran.add(block_id)

    def has_run(self, block_id: str) -> bool:
        return block_id in self._ran

    def snapshot(self) -> dict:
        """What this memory holds, as JSON (a session keeps it for the next app)."""
        return {"setups": [list(key) for key in self._setups], "ran": sorted(self._ran)}

    def restore(self, snapshot: dict) -> None:
        """Take back a ``snapshot`` of the same worker (anything malformed is skipped)."""
        for key in snapshot.get("setups") or ():
            if isinstance(key, list):
                self._setups.add(tuple(key))
        for block_id in snapshot.get("ran") or ():
            if isinstance(block_id, str):
                self._ran.add(block_id)


class Executor:
    """Runs jobs one at a time in ``client``'s worker."""

    def __init__(self, client, memory: WorkerMemory | None = None, *, report: Report | None = None,
                 starting: Callable[[Part], None] | None = None) -> None:
        self.client = client
        self.memory = memory if memory is not None else WorkerMemory()
        self.report = report or (lambda part, event: None)
        self.starting = starting or (lambda part: None)

    def begin(self, job: Job) -> Sent | None:
        """Send ``job``'s code now, when nothing must run before it (the setup it needs
        ran in this worker) and the client can take it at once (its ``submit``); then
        ``run(job, sent)`` goes on from there. None: nothing was sent."""
        submit = getattr(self.client, "submit", None)
        if submit is None or any(self.memory.setup_needed(part.key) for part in job.setup):
            return None
        # In a context of its own: what ``starting`` sets there (a session's request
        # tag) goes with this request and stays out of the caller's context.
        return contextvars.copy_context().run(self._submit, submit, job.code)

    def _submit(self, submit, part: Part) -> Sent | None:
        self.starting(part)
        return submit(part.code, label=part.label, timeout=part.timeout, diagnose=part.diagnose)

    async def run(self, job: Job, sent: Sent | None = None) -> Outcome:
        """The setup parts this worker still needs, the code, then the check if any;
        it stops at the first part that fails. ``sent``: the code already went
        (``begin``)."""
        runs = [] if sent is not None else await self.prepare(job)
        if runs and not runs[-1].ok:
            return judge(job, runs)
        code = await self.execute(job.code, sent)
        runs.append(code)
        if job.check is not None and code.ok:
            runs.append(await self.execute(job.check))
        outcome = judge(job, runs)
        if outcome.code_ran:
            self.memory.block_ran(job.block_id)
        return outcome

    async def prepare(self, job: Job) -> list[PartRun]:
        """Run the setup parts this worker still needs, up to the first that fails."""
        runs: list[PartRun] = []
        for part in job.setup:
            if not self.memory.setup_needed(part.key):
                continue
            run = await self.execute(part)
            runs.append(run)
            if not run.ok:
                break
            self.memory.setup_ran(part.key)
        return runs

    async def execute(self, part: Part, sent: Sent | None = None) -> PartRun:
        """One request to the worker (``sent``: it went already); every event is reported."""
        if sent is None:
            self.starting(part)
            events = self.client.execute(part.code, label=part.label, timeout=part.timeout, diagnose=part.diagnose)
        else:
            events = sent
        finished = failure = None
        advice: list[AdviceGiven] = []
        async for event in events:
            if isinstance(event, CellFailed):
                failure = event
            elif isinstance(event, CellFinished):
                finished = event
            elif isinstance(event, AdviceGiven):
                advice.append(event)
            self.report(part, event)
        assert finished is not None, "the sandbox always ends a request with CellFinished"
        if finished.state_lost:
            self.memory.forget()
        return PartRun(part, finished, failure, tuple(advice))
