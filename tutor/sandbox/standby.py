"""Client side: one spare worker, so that a restart (F8) or a crash answers at once.

The spare is a whole nanny + worker, started in the background once the active worker
is ready and warm: it imports torch, says ``standby`` and waits. CUDA stays untouched
in it (the device is chosen only on ``activate``), so no CUDA process is ever forked
and the spare holds no GPU memory. ``take()`` hands it to the client, which sends
``activate`` and has a ready worker in milliseconds instead of seconds.

While it waits, nothing it reports reaches the client: its memory is not added to the
active worker's (each nanny watches its own tree against the limit). A spare that
dies or breaks while it waits is dropped, and another is made only when the client
next asks for one. ``close()`` ends it with everything it started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tutor.sandbox.process import WorkerProcess
from tutor.sandbox.protocol import PROTOCOL_VERSION
from tutor.sandbox.spawn import Launched

DELAY = 1.0  # seconds after the active worker is warm: the learner's first cells go first


class Standby:
    def __init__(self, launch: Callable[[], Awaitable[Launched]], *, delay: float = DELAY) -> None:
        self._launch = launch
        self.delay = delay
        self.proc: WorkerProcess | None = None
        self.parked = False  # it said "standby": torch is imported
        self._task: asyncio.Task | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def want(self) -> None:
        """Make a spare (after ``delay``) unless there is one or one is on its way."""
        if self._closed or self.proc is not None or self._task is not None or self._timer is not None:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self.delay, self._begin)

    def _begin(self) -> None:
        self._timer = None
        if not self._closed and self.proc is None and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._start())

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            launched = await self._launch()
        except Exception:  # noqa: BLE001 - no spare this time; the next restart starts afresh
            return
        finally:
            self._task = None
        proc = WorkerProcess(loop, launched, on_message=None, on_status=lambda message, blob: None,
                             on_broken=None, on_ended=None)
        if self._closed:
            proc.close()
            return
        proc.on_message = lambda message, blob: self._on_message(proc, message)
        proc.on_broken = lambda error: self._drop(proc)
        proc.on_ended = lambda exit: self._drop(proc)
        self.proc, self.parked = proc, False

    def _on_message(self, proc: WorkerProcess, message: dict) -> None:
        kind = message.get("t")
        if kind == "hello" and message.get("protocol") != PROTOCOL_VERSION:
            self._drop(proc)  # a fresh start will say what is wrong
        elif kind == "standby":
            self.parked = True

    def _drop(self, proc: WorkerProcess) -> None:
        if proc is self.proc:
            self.proc, self.parked = None, False
        proc.close()

    def take(self) -> WorkerProcess | None:
        """The spare, to be adopted (its callbacks rebound) and activated; or None."""
        proc, self.proc, self.parked = self.proc, None, False
        return proc

    async def close(self) -> None:
        """End the spare (and stop making one) until ``reopen``."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None:
            await asyncio.wait([self._task])
        proc = self.take()
        if proc is not None:
            proc.close()
            try:
                await asyncio.wait_for(proc.exited.wait(), 5.0)
            except asyncio.TimeoutError:
                pass

    def reopen(self) -> None:
        self._closed = False
