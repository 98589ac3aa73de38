"""The run queue (tutor.execution.queue): one run at a time, in order; where queued
runs get dropped; a sandbox failure ends one run, never the queue."""

from __future__ import annotations

import asyncio

from tutor.execution import WorkerMemory, job_for
from tutor.execution.queue import INTERRUPTED, RunQueue
from tutor.lessons.model import CodeCell, Exercise, SetupCell
from tutor.sandbox.events import CellFailed, CellFinished, CellStarted


class SlowClient:
    """Each request waits until ``release`` is set; code "boom" raises, "broken" breaks the client."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.executed: list[str] = []

    async def execute(self, code: str, *, label: str, timeout: float | None, diagnose: bool = False):
        self.executed.append(label)
        yield CellStarted(len(self.executed))
        await self.release.wait()
        if code == "broken":
            raise ConnectionError("the worker's pipe closed")
        if code == "boom":
            yield CellFailed(1, "ValueError", "boom", (), None, 1)
            yield CellFinished(1, "error", 0.1, None, False, ())
        else:
            yield CellFinished(1, "ok", 0.1, None, False, ())


def cell(n: int, code: str = "x = 1") -> CodeCell:
    return CodeCell(f"c{n}", code, n * 10)


async def started_queue(client):
    said: list[tuple] = []
    queue = RunQueue(client, WorkerMemory(),
                     started=lambda run: said.append(("started", run.owner)),
                     reported=lambda run, part, event: None,
                     ended=lambda run, outcome: said.append(("ended", run.owner, outcome.status)),
                     dropped=lambda run, why: said.append(("dropped", run.owner, why)))
    task = asyncio.get_running_loop().create_task(queue.serve())
    return queue, said, task


async def until(condition) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("timed out")


async def test_runs_go_one_at_a_time_in_order_and_a_second_press_adds_nothing():
    client = SlowClient()
    queue, said, task = await started_queue(client)
    assert queue.idle
    assert queue.add(job_for(cell(1), label="cell 1"), "A") is not None
    assert queue.add(job_for(cell(2), label="cell 2"), "B") is not None
    assert queue.add(job_for(cell(1), label="cell 1"), "A") is None, "A waits already"
    await until(lambda: queue.active is not None)
    assert queue.active.owner == "A" and [r.owner for r in queue.waiting] == ["B"] and not queue.idle
    assert queue.add(job_for(cell(1), label="cell 1"), "A") is None, "A runs already"
    client.release.set()
    await until(lambda: queue.idle)
    assert client.executed == ["cell 1", "cell 2"]
    assert [s[:2] for s in said] == [("started", "A"), ("ended", "A"), ("started", "B"), ("ended", "B")]
    task.cancel()


async def test_a_failure_drops_the_runs_still_waiting():
    client = SlowClient()
    queue, said, task = await started_queue(client)
    queue.add(job_for(cell(1, "boom"), label="cell 1"), "A")
    queue.add(job_for(cell(2), label="cell 2"), "B")
    queue.add(job_for(cell(3), label="cell 3"), "C")
    client.release.set()
    await until(lambda: queue.idle)
    assert client.executed == ["cell 1"]
    why = "not run: cell 1 did not finish"  # the run that stopped them, named
    assert ("dropped", "B", why) in said and ("dropped", "C", why) in said
    task.cancel()


async def test_a_failed_check_drops_the_runs_after_it_and_says_so():
    client = SlowClient()
    queue, said, task = await started_queue(client)
    exercise = Exercise("double", starter="x = 1", check="boom", solution="x = 2", line=10, check_line=14,
                        solution_line=18)
    queue.add(job_for(exercise, label="exercise 1"), "A")
    queue.add(job_for(cell(2), label="cell 2"), "B")
    client.release.set()
    await until(lambda: queue.idle)
    assert client.executed == ["exercise 1", "check"]  # the code ran, its check failed
    assert ("dropped", "B", "not run: exercise 1 did not pass its check") in said
    task.cancel()


async def test_an_interrupt_drops_what_waits_and_the_running_run_ends_on_its_own():
    client = SlowClient()
    queue, said, task = await started_queue(client)
    queue.add(job_for(cell(1), label="cell 1"), "A")
    queue.add(job_for(cell(2), label="cell 2"), "B")
    await until(lambda: queue.active is not None)
    assert [r.owner for r in queue.drop(INTERRUPTED)] == ["B"]
    client.release.set()
    await until(lambda: queue.idle)
    assert client.executed == ["cell 1"] and ("dropped", "B", INTERRUPTED) in said
    task.cancel()


async def test_a_failing_sandbox_ends_that_run_and_the_queue_goes_on():
    client = SlowClient()
    queue, said, task = await started_queue(client)
    client.release.set()
    queue.add(job_for(cell(1, "broken"), label="cell 1"), "A")
    await until(lambda: queue.idle)
    assert ("ended", "A", "not run") in said
    queue.add(job_for(cell(2), label="cell 2"), "B")
    await until(lambda: ("ended", "B", "ok") in said)
    assert not task.done()
    task.cancel()


class InstantClient:
    """Answers at once, without waiting for anything (a cell too big to send, a worker
    that is stopped): the run's events come in the same step as its start."""

    async def execute(self, code: str, *, label: str, timeout: float | None, diagnose: bool = False):
        yield CellFailed(1, "ValueError", "too big", (), None, None)
        yield CellFinished(1, "error", 0.0, None, False, ())


async def test_started_comes_after_the_request_is_sent_and_before_anything_else_of_the_run():
    said: list[str] = []
    sent: list[str] = []

    class SendingClient:
        """Sends at once (nothing awaited before), then waits for the worker."""

        def __init__(self) -> None:
            self.release = asyncio.Event()

        async def execute(self, code, **options):
            sent.append(code)
            await self.release.wait()
            yield CellStarted(1)
            yield CellFinished(1, "ok", 0.1, None, False, ())

    for client in (SendingClient(), InstantClient()):
        said.clear()
        queue = RunQueue(client, WorkerMemory(),
                         started=lambda run: said.append(f"started {run.owner} (sent: {len(sent)})"),
                         reported=lambda run, part, event: said.append(f"{type(event).__name__} {run.owner}"),
                         ended=lambda run, outcome: said.append(f"ended {run.owner}"),
                         dropped=lambda run, why: said.append(f"dropped {run.owner}"))
        task = asyncio.get_running_loop().create_task(queue.serve())
        queue.add(job_for(cell(1), label="cell 1"), "A")
        if isinstance(client, SendingClient):
            await until(lambda: said)
            assert said == ["started A (sent: 1)"]
            client.release.set()
        await until(lambda: queue.idle and said[-1] == "ended A")
        assert said[0].startswith("started A") and said.count(said[0]) == 1
        assert said[1:] == (["CellStarted A", "CellFinished A", "ended A"] if isinstance(client, SendingClient)
                            else ["CellFailed A", "CellFinished A", "ended A"])
        task.cancel()


class SubmittingClient(SlowClient):
    """SlowClient with ``submit``: a request sent at once when nothing runs (the
    ``executed`` list grows in the caller's turn), else None."""

    def __init__(self) -> None:
        super().__init__()
        self.busy = False

    def submit(self, code: str, *, label: str, timeout: float | None, diagnose: bool = False):
        if self.busy:
            return None
        self.busy = True
        self.executed.append(label)
        return self._events(code)

    async def execute(self, code: str, *, label: str, timeout: float | None, diagnose: bool = False):
        while self.busy:
            await asyncio.sleep(0.001)
        self.busy = True
        self.executed.append(label)
        async for event in self._events(code):
            yield event

    async def _events(self, code: str):
        try:
            yield CellStarted(len(self.executed))
            await self.release.wait()
            yield CellFinished(1, "ok", 0.1, None, False, ())
        finally:
            self.busy = False


async def test_a_run_added_while_nothing_runs_is_sent_at_once_and_the_rest_wait_their_turn():
    client = SubmittingClient()
    starting: list[str] = []
    said: list[tuple] = []
    queue = RunQueue(client, WorkerMemory(),
                     started=lambda run: said.append(("started", run.owner)),
                     reported=lambda run, part, event: None,
                     ended=lambda run, outcome: said.append(("ended", run.owner, outcome.status)),
                     dropped=lambda run, why: said.append(("dropped", run.owner, why)),
                     part_starting=lambda run, part: starting.append(run.owner))
    task = asyncio.get_running_loop().create_task(queue.serve())
    queue.add(job_for(cell(1), label="cell 1"), "A")
    assert client.executed == ["cell 1"] and starting == ["A"]  # no await yet: it went in add()
    assert queue.active.owner == "A" and not queue.idle and queue.waiting == ()
    queue.add(job_for(cell(2), label="cell 2"), "B")
    assert client.executed == ["cell 1"] and [r.owner for r in queue.waiting] == ["B"]
    assert queue.add(job_for(cell(1), label="cell 1"), "A") is None, "A runs already"
    assert queue.drop(INTERRUPTED)[0].owner == "B"  # the one sent is not dropped: it runs
    client.release.set()
    await until(lambda: queue.idle and ("ended", "A", "ok") in said)
    assert said == [("started", "A"), ("dropped", "B", INTERRUPTED), ("ended", "A", "ok")]
    assert client.executed == ["cell 1"]
    task.cancel()


async def test_runs_added_in_the_same_turn_as_one_sent_at_once_run_after_it_in_order():
    client = SubmittingClient()
    queue, said, task = await started_queue(client)
    for n, owner in ((1, "A"), (2, "B"), (3, "C")):  # "run all above": one key, three runs
        queue.add(job_for(cell(n), label=f"cell {n}"), owner)
    assert client.executed == ["cell 1"]
    client.release.set()
    await until(lambda: queue.idle and len(said) == 6)
    assert client.executed == ["cell 1", "cell 2", "cell 3"]
    assert said == [("started", "A"), ("ended", "A", "ok"), ("started", "B"), ("ended", "B", "ok"),
                    ("started", "C"), ("ended", "C", "ok")]
    task.cancel()


async def test_a_run_that_needs_its_setup_first_is_not_sent_at_once():
    client = SubmittingClient()
    client.release.set()
    queue, said, task = await started_queue(client)
    needs_setup = CodeCell("c1", "y = x", 10, setup=(SetupCell("x = 1", 5),))
    queue.add(job_for(needs_setup, label="cell 1"), "A")
    assert client.executed == []  # the setup goes first, from the queue's task
    await until(lambda: queue.idle and said)
    assert client.executed == ["setup", "cell 1"]
    queue.add(job_for(needs_setup, label="cell 1"), "A")  # its setup ran in this worker now
    assert client.executed == ["setup", "cell 1", "cell 1"]
    await until(lambda: len(said) == 4)
    task.cancel()
