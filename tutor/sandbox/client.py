"""The sandbox client: run learner code in a supervised worker, from asyncio.

    client = SandboxClient(workdir=config.workspace_dir(lesson.id))
    await client.start()                      # returns at once; client.ready is set later
    async for event in client.execute(code, label="cell 3", timeout=60):
        ...                                   # tutor.sandbox.events, ending with CellFinished
    await client.interrupt()                  # SIGINT; kill + restart after a grace period
    await client.restart(); await client.shutdown()

Used by the TUI and the headless runner; never imports torch, textual or rich, and
never blocks the event loop. Requests queue: a second ``execute`` waits for the first.
Output of a finished, interrupted-and-replaced or restarted request is dropped.

Extras beyond the contract (keyword-only, optional): ``interrupt_grace`` (seconds
between SIGINT and the kill), ``start_timeout``, ``output_limits`` (an
``outputcap.CapLimits``), ``namespace`` (None: use a user+PID namespace when the
system allows; False: never; True: insist), ``perturb`` (K: every torch seed shifted
by K and another CPU thread count, see ``tutor.sandbox.perturb``), ``max_processes``
(the worker's tree is stopped above it: a fork bomb), ``restarts`` (a
``restarts.RestartPolicy``: when a dead worker is started again), ``shutdown_grace``
(seconds ``shutdown`` waits after the request, then after SIGTERM), ``standby``
(keep a spare worker with torch imported, for restarts: tutor.sandbox.standby). ``supervisor_pid`` is the pid
of the process the client started (for tests that check nothing is left behind).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from pathlib import Path

from tutor.sandbox import decode, proctree, reasons, tracebacks
from tutor.sandbox.events import (
    CellEvent, CellFailed, CellFinished, CellStarted, ResourcesMeasured, WarmupChanged, WorkerInfo, WorkerState,
    WorkerStateChanged,
)
from tutor.sandbox.limits import default_memory_limit, format_size, process_limit
from tutor.sandbox.outputcap import CapLimits
from tutor.sandbox.process import WorkerProcess
from tutor.sandbox.restarts import RestartPolicy
from tutor.sandbox.standby import Standby
from tutor.sandbox.warmup import FAILED, WARM, WARMING
from tutor.sandbox.protocol import MAX_HEADER, PROTOCOL_VERSION, FrameTooLarge, ProtocolError, encode
from tutor.sandbox.spawn import launch, worker_environment

DEFAULT_WORKER = [sys.executable, "-m", "tutor.sandbox.worker"]

FINISHED_STATUSES = ("ok", "error", "interrupted")  # what the worker itself may say
EventCallback = Callable[[WorkerStateChanged | ResourcesMeasured | WarmupChanged], None]


async def _within(awaitable, seconds: float) -> bool:
    """Whether ``awaitable`` finished within ``seconds``."""
    try:
        await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError:
        return False
    return True


INTERRUPT_LANDING = 1.0  # seconds a next cell waits for an earlier interrupt to land (the nanny confirms)


class _Request:
    def __init__(self, request_id: int, label: str, timeout: float | None) -> None:
        self.id = request_id
        self.label = label
        self.timeout = timeout
        self.queue: asyncio.Queue[CellEvent] = asyncio.Queue()
        self.sent_at = time.perf_counter()
        self.started = False
        self.finished = False  # its CellFinished was queued
        self.abandoned = False  # nobody listens any more (the worker may still run it)
        self.stopped_by: str | None = None  # "user" or "timeout"
        self.timers: list[asyncio.TimerHandle] = []
        self.decoder = decode.CellDecoder(request_id)

    def deliver(self, event: CellEvent) -> None:
        """Every cell event leaves the client here, its worker text sanitised."""
        self.queue.put_nowait(decode.clean(event))

    def cancel_timers(self) -> None:
        for timer in self.timers:
            timer.cancel()
        self.timers.clear()


class SandboxClient:
    def __init__(self, *, workdir: Path, device: str = "auto", memory_limit: int | None = None,
                 prewarm: bool = True, worker_command: list[str] | None = None,
                 env: dict[str, str] | None = None, on_event: EventCallback | None = None,
                 interrupt_grace: float = 3.0, start_timeout: float = 120.0,
                 output_limits: CapLimits | None = None, namespace: bool | None = None,
                 perturb: int = 0, max_processes: int | None = None,
                 restarts: RestartPolicy | None = None, shutdown_grace: float = 1.0,
                 standby: bool = False) -> None:
        self.workdir = Path(workdir)
        self.device = device
        self.memory_limit = memory_limit if memory_limit is not None else default_memory_limit()
        self.prewarm = prewarm
        self.worker_command = list(worker_command) if worker_command else list(DEFAULT_WORKER)
        self.env = dict(env or {})
        self.on_event = on_event
        self.interrupt_grace = interrupt_grace
        self.start_timeout = start_timeout
        self.output_limits = output_limits
        self.namespace = namespace
        self.perturb = perturb
        self.max_processes = max_processes
        self.state = WorkerState.STOPPED
        self.reason: str | None = None
        self.info: WorkerInfo | None = None
        self.ready = asyncio.Event()
        self.supervisor_pid: int | None = None
        self.in_namespace = False
        self._proc: WorkerProcess | None = None
        self._current: _Request | None = None
        self._next_id = 1
        self._queue_lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self.restarts = restarts or RestartPolicy()
        self.shutdown_grace = shutdown_grace
        self._start_timer: asyncio.TimerHandle | None = None
        self._pending_restart_reason: str | None = None
        self._gpu: tuple[int | None, int | None] = (None, None)
        self._launching: asyncio.Task | None = None
        self.warmup: str | None = None  # the active worker's warm-up: "warming", "warm", "failed"
        self._standby = Standby(self._launch_standby) if standby else None

    # -- state ---------------------------------------------------------------------------

    def _set_state(self, state: WorkerState, reason: str | None = None) -> None:
        self.state = state
        self.reason = decode.text(reason)  # it may quote the worker (a crash log)
        if state is WorkerState.READY:
            self.ready.set()
        elif state is not WorkerState.RUNNING and state is not WorkerState.INTERRUPTING:
            self.ready.clear()
        self._wake()
        self._emit(WorkerStateChanged(state, reason, self.info))

    def _wake(self) -> None:
        """Wake whoever waits for the worker to be usable."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _emit(self, event) -> None:
        """Every worker event leaves the client here, its worker text sanitised."""
        if self.on_event is not None:
            try:
                self.on_event(decode.clean(event))
            except Exception:  # a broken listener must not break the sandbox
                import traceback

                traceback.print_exc()

    # -- start, restart, shutdown ------------------------------------------------------------

    async def start(self) -> None:
        """Start the worker in the background; ``ready`` is set when it can run cells."""
        if self._proc is not None or self._launching is not None:
            return
        self._set_state(WorkerState.STARTING, self._pending_restart_reason)
        self._pending_restart_reason = None
        spare = self._standby.take() if self._standby is not None else None
        if spare is not None:
            self._adopt(spare)
            spare.send({"t": "activate"})  # read as soon as it has imported torch
            return
        self._launching = asyncio.get_running_loop().create_task(self._launch())

    async def _launch(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            launched = await loop.run_in_executor(None, self._launch_blocking)
        except Exception as err:  # OSError, or a bad setting: say it, never hang a waiting cell
            self._launching = None
            self.info = None
            self._set_state(WorkerState.CRASHED, f"The worker could not be started: {err}")
            return
        finally:
            self._launching = None
        if self.state is not WorkerState.STARTING:  # shut down or restarted meanwhile
            WorkerProcess(loop, launched, on_message=lambda *a: None, on_status=lambda *a: None,
                          on_broken=lambda e: None, on_ended=lambda e: None).close()
            return
        self._adopt(WorkerProcess(loop, launched, on_message=None, on_status=None, on_broken=None, on_ended=None))

    def _adopt(self, proc: WorkerProcess) -> None:
        """Make ``proc`` (just launched, or the spare) the active worker."""
        self.supervisor_pid = proc.launched.process.pid
        self.in_namespace = proc.launched.namespace
        proc.on_message = lambda message, blob: self._on_message(proc, message, blob)
        proc.on_status = lambda message, blob: self._on_status(proc, message, blob)
        proc.on_broken = lambda error: self._on_broken(proc, error)
        proc.on_ended = lambda exit: self._on_ended(proc, exit)
        self._proc = proc
        self.warmup = None
        loop = asyncio.get_running_loop()
        self._start_timer = loop.call_later(self.start_timeout, self._start_took_too_long, proc)

    async def _launch_standby(self):
        return await asyncio.get_running_loop().run_in_executor(None, self._launch_blocking, True)

    def _want_standby(self) -> None:
        if self._standby is not None and self.state in (WorkerState.READY, WorkerState.RUNNING):
            self._standby.want()

    def _launch_blocking(self, standby: bool = False):
        from tutor.sandbox.device import torch_environment

        config = {"device": self.device, "memory_limit": self.memory_limit, "prewarm": self.prewarm,
                  "nproc": process_limit()}
        if self.output_limits is not None:
            config["cap"] = dataclasses.asdict(self.output_limits)
        if self.perturb:
            config["perturb"] = self.perturb
        if standby:
            config["standby"] = True
        env = worker_environment(os.environ, {**torch_environment(self.device), **self.env})
        return launch(workdir=self.workdir, worker_command=self.worker_command, worker_config=config,
                      memory_limit=self.memory_limit, env=env, namespace=self.namespace,
                      nanny_options={"max_processes": self.max_processes})

    def _start_took_too_long(self, proc: WorkerProcess) -> None:
        if proc is self._proc and self.state is WorkerState.STARTING:
            self._pending_restart_reason = f"The worker did not start within {reasons.seconds(self.start_timeout)}."
            proc.kill()

    async def restart(self) -> None:
        """A fresh worker and namespace (variables lost); returns once it is starting."""
        self.restarts.reset()
        await self._stop_worker(reasons.RESTARTED, WorkerState.RESTARTING)
        await self.start()

    async def shutdown(self) -> str | None:
        """Stop the worker and everything it started, gently first: the ``shutdown``
        request (an idle worker exits at once), then SIGTERM, then SIGKILL, each after
        ``shutdown_grace`` seconds. Returns what ended it ("shutdown", "SIGTERM",
        "SIGKILL"), or None when no worker ran."""
        proc = self._proc
        idle = self.state is WorkerState.READY and self._current is None
        await self._stop_worker(reasons.SHUT_DOWN, WorkerState.STOPPED, close=False)
        if self._standby is not None:
            await self._standby.close()
            self._standby.reopen()  # a stopped client starts again when asked to run a cell
        if proc is None:
            return None
        steps = [("SIGTERM", proc.terminate)]
        if idle:  # a busy worker reads no request until its cell ends
            steps.insert(0, ("shutdown", lambda: proc.send({"t": "shutdown"})))
        ended_by = "SIGKILL"
        for name, step in steps:
            step()
            if await _within(proc.ended.wait(), self.shutdown_grace):
                ended_by = name
                break
        proc.close()  # the nanny kills whatever is left, and goes
        await _within(proc.exited.wait(), 5.0)
        return ended_by

    async def _stop_worker(self, reason: str, state: WorkerState, *, close: bool = True) -> None:
        if self._launching is not None:
            launching = self._launching
            self._set_state(state, reason)  # the launch sees it and closes what it started
            await asyncio.wait([launching])
        proc, self._proc = self._proc, None
        if proc is not None and close:
            proc.close()
        if self._start_timer:
            self._start_timer.cancel()
        self._finish_current("killed", reason, state_lost=True)
        self.info = None
        self.warmup = None
        self._set_state(state, reason)

    # -- worker messages ------------------------------------------------------------------

    def _on_status(self, proc: WorkerProcess, message: dict, blob: bytes) -> None:
        if proc is not self._proc:
            return
        kind = message.get("t")
        if kind == "interrupt-sent":
            proc.interrupts_in_flight = max(0, proc.interrupts_in_flight - 1)
            if not proc.interrupts_in_flight:
                self._wake()
        elif kind == "rss":
            allocated, reserved = self._gpu
            self._emit(ResourcesMeasured(int(message.get("rss") or 0), message.get("limit"), allocated, reserved))
        elif kind == "out":  # what the worker printed just before it ended
            request = self._current
            if request is not None and not request.abandoned:
                self._decode(proc, request, "out", message, blob)

    def _on_message(self, proc: WorkerProcess, message: dict, blob: bytes) -> None:
        if proc is not self._proc:
            return
        kind = message["t"]
        if kind == "hello":
            if message.get("protocol") != PROTOCOL_VERSION:
                self._pending_restart_reason = decode.text(
                    f"The worker speaks protocol {message.get('protocol')} and this tutor {PROTOCOL_VERSION}: "
                    "reinstall tutor so that both come from the same version.")
                proc.kill()
            return
        if kind == "ready":
            self._on_ready(proc, message.get("info"))
            return
        if kind == "warmup":
            self._on_warmup(message)
            return
        if kind == "gpu":
            allocated, reserved = message.get("allocated"), message.get("reserved")
            self._gpu = (allocated if isinstance(allocated, int) else None,
                         reserved if isinstance(reserved, int) else None)
            return
        request = self._current
        if request is None or message.get("id") != request.id:
            return  # output of a finished or replaced request
        if request.abandoned:
            if kind == "finished":
                self._current = None
                self._set_state(WorkerState.READY)
            return
        if kind == "started":
            request.started = True
            if request.stopped_by is not None:  # interrupted before it began
                proc.interrupt()
            if request.timeout is not None:
                loop = asyncio.get_running_loop()
                request.timers.append(loop.call_later(request.timeout, self._on_timeout, request))
            request.deliver(CellStarted(request.id))
        elif kind == "finished":
            self._on_finished(request, message)
        else:
            self._decode(proc, request, kind, message, blob)

    def _decode(self, proc: WorkerProcess, request: _Request, kind: str, message: dict, blob: bytes) -> None:
        try:
            events = request.decoder.decode(kind, message, blob)
        except ProtocolError as err:
            self._on_broken(proc, str(err))
            return
        for event in events:
            if isinstance(event, CellFailed):
                event = self._failure(request, event)
            request.deliver(event)

    def _on_ready(self, proc: WorkerProcess, info: dict | None) -> None:
        if self._start_timer:
            self._start_timer.cancel()
        pid = info.get("pid") if isinstance(info, dict) else None
        pid = pid if isinstance(pid, int) else 0
        if self.in_namespace and self.supervisor_pid:
            pid = proctree.outer_pid(self.supervisor_pid, pid) or pid
        try:
            self.info, note = decode.worker_info(info, pid)
        except ProtocolError as err:
            self._on_broken(proc, str(err))
            return
        self.restarts.ready()
        self._set_state(WorkerState.READY, note)
        if self.warmup != WARMING:
            self._want_standby()

    def _on_warmup(self, message: dict) -> None:
        state = message.get("state")
        if state not in (WARMING, WARM, FAILED):
            return
        self.warmup = state
        self._emit(WarmupChanged(state, decode.text(message.get("detail"))))
        if state != WARMING:
            self._want_standby()

    @staticmethod
    def _failure(request: _Request, failure: CellFailed) -> CellFailed:
        if failure.ename == "KeyboardInterrupt" and request.stopped_by == "timeout":
            return dataclasses.replace(
                failure, ename="TimeoutError",
                message=f"the cell ran longer than its time limit ({reasons.seconds(request.timeout or 0)})")
        return failure

    def _on_finished(self, request: _Request, message: dict) -> None:
        status = message.get("status", "ok")
        status = status if status in FINISHED_STATUSES else "error"
        reason = None
        if status == "interrupted":
            if request.stopped_by == "timeout":
                status, reason = "timeout", reasons.timed_out(request.timeout or 0, kept=True)
            else:
                reason = reasons.INTERRUPTED
        gpu_lost = message.get("gpu_lost") is True
        if gpu_lost:
            reason = reasons.GPU_LOST
        duration = message.get("duration")
        threads = message.get("threads")
        self._finish(request, CellFinished(
            request.id, status, float(duration) if isinstance(duration, (int, float)) else 0.0, reason, gpu_lost,
            tuple(str(name) for name in threads[:100]) if isinstance(threads, list) else ()))
        if gpu_lost and self._proc is not None:
            self._replace_after_cell(self._proc, reasons.GPU_LOST)
            return
        if self.state in (WorkerState.RUNNING, WorkerState.INTERRUPTING):
            self._set_state(WorkerState.READY)

    def _finish(self, request: _Request, event: CellFinished) -> None:
        if self._current is request:
            self._current = None
        if request.finished:
            return
        request.finished = True
        request.cancel_timers()
        if not request.abandoned:
            for rest in request.decoder.flush():
                request.deliver(rest)
            request.deliver(event)

    def _finish_current(self, status: str, reason: str, *, state_lost: bool) -> None:
        request = self._current
        if request is not None:
            self._finish(request, CellFinished(request.id, status, time.perf_counter() - request.sent_at,
                                               reason, state_lost, ()))

    # -- deaths --------------------------------------------------------------------------

    def _replace_after_cell(self, proc: WorkerProcess, reason: str) -> None:
        """The cell left the worker unusable (CUDA's sticky errors): a fresh one, at once
        and not counted against the restarts, as if the cell had crashed it."""
        self._pending_restart_reason = reason
        proc.ended_by_cell = True
        proc.kill()

    def _on_broken(self, proc: WorkerProcess, error: str) -> None:
        if proc is not self._proc:
            return
        self._pending_restart_reason = f"The worker sent an unreadable message ({error}): {reasons.LOST}"
        proc.kill()

    def _on_ended(self, proc: WorkerProcess, exit: reasons.Exit | None) -> None:
        if proc is not self._proc:
            return
        self._proc = None
        if self._start_timer:
            self._start_timer.cancel()
        was_starting = self.state is WorkerState.STARTING
        request = self._current
        status, reason = self._death_reason(proc, exit, request)
        self.info = None
        self.warmup = None
        if request is not None:
            self._finish(request, CellFinished(request.id, status, time.perf_counter() - request.sent_at,
                                               reason, True, ()))
        verdict = self.restarts.died(in_cell=(request is not None or proc.ended_by_cell) and not was_starting)
        if not verdict.restart:
            detail = self._log_detail(proc) if was_starting else ""
            self._set_state(WorkerState.CRASHED, f"{verdict.reason}. The last time: {reason}{detail} "
                                                 "Restart it to try again.")
            return
        self._set_state(WorkerState.RESTARTING, reason)
        self._pending_restart_reason = reason
        asyncio.get_running_loop().call_later(verdict.delay, self._restart_after_death)

    def _restart_after_death(self) -> None:
        if self.state is WorkerState.RESTARTING and self._proc is None and self._launching is None:
            asyncio.get_running_loop().create_task(self.start())

    def _death_reason(self, proc: WorkerProcess, exit: reasons.Exit | None,
                      request: _Request | None) -> tuple[str, str]:
        if self._pending_restart_reason is not None and (exit is None or exit.cause == "request"):
            reason, self._pending_restart_reason = self._pending_restart_reason, None
            return "crashed", reason
        if exit is not None and exit.cause == "request" and request is not None:
            if request.stopped_by == "timeout":
                return "timeout", reasons.timed_out(request.timeout or 0, kept=False)
            return "interrupted", reasons.NOT_STOPPED
        place = None
        if exit is not None and exit.signal is not None:
            labels = {request.label} if request else set()
            frames = tracebacks.crash_frames(proc.log_text(), labels) if labels else []
            if frames:
                place = frames[0][:2]
        return reasons.death(exit, limit=self.memory_limit, place=place)

    @staticmethod
    def _log_detail(proc: WorkerProcess) -> str:
        lines = [line for line in proc.log_text().splitlines() if line.strip()]
        return f" Last output: {lines[-1].strip()[:300]}." if lines else ""

    # -- execute, interrupt ------------------------------------------------------------

    def _usable_now(self) -> bool:
        """Ready, with no interrupt of an earlier cell still landing (see ``_wait_usable``)."""
        return (self.state is WorkerState.READY and self._proc is not None
                and not self._proc.interrupts_in_flight)

    async def _wait_usable(self) -> bool:
        """Wait for READY (starting the worker if needed); False when it is stopped for good."""
        loop = asyncio.get_running_loop()
        landed_by = loop.time() + INTERRUPT_LANDING
        while True:
            if self.state is WorkerState.READY and self._proc is not None:
                # An interrupt sent for an earlier cell must land first, or it stops this one:
                # it goes through the nanny, the cell straight to the worker (no order between
                # the two pipes). The worker ignores a SIGINT between cells.
                if not self._proc.interrupts_in_flight or loop.time() >= landed_by:
                    return True
                try:
                    await asyncio.wait_for(self._changed.wait(), landed_by - loop.time())
                except asyncio.TimeoutError:
                    pass
                continue
            if self.state is WorkerState.CRASHED:
                return False
            if self.state is WorkerState.STOPPED and self._launching is None:
                await self.start()
                continue
            await self._changed.wait()

    def submit(self, code: str, *, label: str = "<cell>", timeout: float | None = None,
               diagnose: bool = False) -> AsyncIterator[CellEvent] | None:
        """Send ``code`` now, if the worker can take it at once (ready, nothing running
        or waiting its turn, no interrupt still landing): its events, as ``execute``
        yields them. None when it cannot, and nothing is sent: ``execute`` waits its
        turn. As with jupyter_client's ``execute``, the request leaves in the caller's
        turn of the event loop, not in the turn of whoever reads its events."""
        if self._queue_lock.locked() or self._current is not None or not self._usable_now():
            return None
        request_id = self._take_id()
        frame = self._execute_frame(request_id, code, label, diagnose)
        if frame is None:
            return None  # too big: ``execute`` says so
        return self._events(self._send_request(request_id, frame, label, timeout))

    async def execute(self, code: str, *, label: str = "<cell>", timeout: float | None = None,
                      diagnose: bool = False) -> AsyncIterator[CellEvent]:
        """Run ``code``; yields events, always ending with ``CellFinished``. A cell too
        big to send (over the protocol's frame limit) fails at once; the worker lives on.
        ``diagnose``: watch it for training-loop mistakes (``AdviceGiven`` events)."""
        async with self._queue_lock:
            request_id = self._take_id()
            frame = self._execute_frame(request_id, code, label, diagnose)
            if frame is None:
                size = len(code.encode("utf-8", "surrogatepass")) + len(label)
                yield decode.clean(CellFailed(request_id, "ValueError",
                                              f"this cell is {format_size(size)}: too big to send to the "
                                              f"worker (the limit is {format_size(MAX_HEADER)})", (), None, None))
                yield decode.clean(CellFinished(request_id, "error", 0.0, None, False, ()))
                return
            if not await self._wait_usable():
                yield decode.clean(CellFinished(request_id, "crashed", 0.0,
                                                self.reason or "The worker is stopped: restart it.", True, ()))
                return
            async with aclosing(self._events(self._send_request(request_id, frame, label, timeout))) as events:
                async for event in events:  # closed with this generator: a caller gone stops the cell
                    yield event

    def _take_id(self) -> int:
        request_id, self._next_id = self._next_id, self._next_id + 1
        return request_id

    @staticmethod
    def _execute_frame(request_id: int, code: str, label: str, diagnose: bool) -> bytes | None:
        """The encoded request (None: too big to send)."""
        message = {"t": "execute", "id": request_id, "code": code, "label": label}
        if diagnose:
            message["diagnose"] = True
        try:
            return encode(message)
        except FrameTooLarge:
            return None

    def _send_request(self, request_id: int, frame: bytes, label: str, timeout: float | None) -> _Request:
        """Send an execute request to the worker, which is ready for it."""
        request = _Request(request_id, label, timeout)
        self._current = request
        assert self._proc is not None
        # Sent before the state is told: what listeners do with it (the app redraws
        # its status line) comes after the request has left.
        self._proc.send_frame(frame)
        self._set_state(WorkerState.RUNNING)
        return request

    async def _events(self, request: _Request) -> AsyncIterator[CellEvent]:
        """A sent request's events, up to its ``CellFinished``; a caller that stops
        listening stops the cell too."""
        try:
            while True:
                event = await request.queue.get()
                yield event
                if isinstance(event, CellFinished):
                    return
        finally:
            if not request.finished:
                request.stopped_by = request.stopped_by or "user"
                self._abandon(request)

    def _abandon(self, request: _Request) -> None:
        request.abandoned = True
        request.cancel_timers()
        if request is self._current and self._proc is not None:
            self._proc.interrupt()
            # not stopped by then: restart the worker (nobody waits for this cell any more)
            asyncio.get_running_loop().call_later(self.interrupt_grace, self._kill_if_busy, request)

    def _kill_if_busy(self, request: _Request) -> None:
        if request is self._current and self._proc is not None:
            self._pending_restart_reason = reasons.NOT_STOPPED
            self._proc.kill()

    async def interrupt(self) -> None:
        """SIGINT the running cell; kill and restart after the grace period if it goes
        on. A second call while interrupting kills at once."""
        request = self._current
        if request is None or request.abandoned or self._proc is None:
            return
        if self.state is WorkerState.INTERRUPTING:
            self._escalate(request)
            return
        request.stopped_by = request.stopped_by or "user"
        self._send_interrupt(request)

    def _on_timeout(self, request: _Request) -> None:
        if request is self._current:
            request.stopped_by = "timeout"
            self._send_interrupt(request)

    def _send_interrupt(self, request: _Request) -> None:
        assert self._proc is not None
        self._proc.interrupt()
        self._set_state(WorkerState.INTERRUPTING, "Interrupting (interrupt again to stop the worker now)…")
        loop = asyncio.get_running_loop()
        request.timers.append(loop.call_later(self.interrupt_grace, self._escalate, request))

    def _escalate(self, request: _Request) -> None:
        if request is not self._current or self._proc is None:
            return
        self._set_state(WorkerState.INTERRUPTING,
                        "Still running after the interrupt (catching KeyboardInterrupt, or a long native "
                        "operation): stopping the worker, variables will be lost.")
        self._proc.kill()
