"""An in-process stand-in for ``SandboxClient`` with the same interface (start, execute,
interrupt, restart, shutdown), for deterministic UI tests: snapshots, key paths,
floods, charts, images.

Test code (never learner code) runs with ``exec`` in one namespace, stdout captured.
These names are available to it, to emit what the real worker would:
``log(step, **metrics)``, ``plot(x, y, label=, title=)``, ``images(n, w, h, labels)``,
``flood(n)`` (n printed lines in one batch), ``block()`` (waits until interrupted),
``crash()`` (the worker dies), ``advise(kind, line, saw, why, fix)`` (training-loop advice,
when the run is diagnosed). The real client is tested in test_real_worker.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import traceback

from tutor.sandbox.events import (
    AdviceGiven,
    CellFailed,
    CellFinished,
    CellStarted,
    Frame,
    Image,
    ImagesShown,
    MetricsLogged,
    OutputStreamed,
    PlotUpdated,
    ResourcesMeasured,
    Series,
    WorkerInfo,
    WorkerState,
    WorkerStateChanged,
)


class _Interrupted(BaseException):
    pass


class _Crashed(BaseException):
    pass


class FakeClient:
    def __init__(self, lesson_id: str = "", on_event=None, *, device: str = "cpu",
                 device_name: str = "", gpu_total: int | None = None, start_delay: float = 0.0):
        self.on_event = on_event
        self.state = WorkerState.STARTING
        self.info: WorkerInfo | None = None
        self.ready = asyncio.Event()
        self.namespace: dict = {}
        self.executed: list[tuple[str, str, float | None]] = []  # (label, code, timeout)
        self.diagnosed: list[bool] = []  # execute(diagnose=...) of each request
        self._diagnose = False
        self.interrupts = 0
        self.restarts = 0
        self._device = (device, device_name, gpu_total)
        self._start_delay = start_delay
        self._request = 0
        self._interrupt = asyncio.Event()
        self._lock = asyncio.Lock()
        self.shut_down = False

    # -- the contract --------------------------------------------------------------------

    async def start(self) -> None:
        self._emit(WorkerStateChanged(WorkerState.STARTING, None, None))
        if self._start_delay:
            await asyncio.sleep(self._start_delay)
        self._become_ready()

    def _become_ready(self) -> None:
        device, name, total = self._device
        self.info = WorkerInfo(pid=4242, torch_version=None, device=device, device_name=name, gpu_total=total)
        self.state = WorkerState.READY
        self.ready.set()
        self._emit(WorkerStateChanged(WorkerState.READY, None, self.info))
        self._emit(ResourcesMeasured(rss=412 * 10**6, limit=4 * 10**9,
                                     gpu_allocated=3_100_000_000 if total else None,
                                     gpu_reserved=3_100_000_000 if total else None))

    async def execute(self, code: str, *, label: str = "<cell>", timeout: float | None = None,
                      diagnose: bool = False):
        async with self._lock:
            await self.ready.wait()
            rid = self._send(code, label, timeout, diagnose)
            async for event in self._events(code, label, rid):
                yield event

    def submit(self, code: str, *, label: str = "<cell>", timeout: float | None = None,
               diagnose: bool = False):
        """As SandboxClient's: sent now when the worker is ready and free, else None."""
        if self._lock.locked() or self.state is not WorkerState.READY:
            return None
        return self._events(code, label, self._send(code, label, timeout, diagnose))

    def _send(self, code: str, label: str, timeout: float | None, diagnose: bool) -> int:
        self._request += 1
        self.executed.append((label, code, timeout))
        self.diagnosed.append(diagnose)
        self._diagnose = diagnose
        self._interrupt.clear()
        self.state = WorkerState.RUNNING
        self._emit(WorkerStateChanged(WorkerState.RUNNING, None, self.info))
        return self._request

    async def _events(self, code: str, label: str, rid: int):
        yield CellStarted(rid)
        events: list = []
        status, reason, lost = "ok", None, False
        try:
            await self._run(code, label, rid, events)
        except _Interrupted:
            status, reason = "interrupted", "Interrupted, variables kept."
        except _Crashed:
            status, reason, lost = "crashed", "Python crashed in native code (segmentation fault): worker restarted, variables lost.", True
            self.namespace = {}
        except Exception as err:  # noqa: BLE001 - becomes CellFailed
            status = "error"
            events.append(_failure(err, label, rid, code))
        for event in events:
            yield event
        self.state = WorkerState.READY
        self._emit(WorkerStateChanged(WorkerState.READY, None, self.info))
        yield CellFinished(rid, status, 0.01, reason, lost, ())

    async def interrupt(self) -> None:
        self.interrupts += 1
        self._emit(WorkerStateChanged(WorkerState.INTERRUPTING, None, self.info))
        self._interrupt.set()

    async def restart(self) -> None:
        self.restarts += 1
        self._interrupt.set()
        self.namespace = {}
        self._emit(WorkerStateChanged(WorkerState.RESTARTING, None, self.info))
        await asyncio.sleep(0)
        self._become_ready()

    async def shutdown(self) -> None:
        self.shut_down = True
        self.state = WorkerState.STOPPED

    # -- internals -----------------------------------------------------------------------

    def _emit(self, event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    async def _run(self, code: str, label: str, rid: int, events: list) -> None:
        blocked = []
        ns = self.namespace
        ns.update(
            log=lambda step=None, **m: events.append(MetricsLogged(rid, ((step, dict(m)),))),
            plot=lambda x, y, label=None, title=None, kind="line": events.append(
                PlotUpdated(rid, kind, title, (Series(label, tuple(map(float, x)), tuple(map(float, y))),))),
            images=lambda n=4, w=8, h=8, labels=None: events.append(ImagesShown(
                rid, "samples", tuple(Image(w, h, "L", bytes((x * 255 // max(1, w - 1)) for _ in range(h) for x in range(w)),
                                            (labels or [None] * n)[i]) for i in range(n)), 4)),
            flood=lambda n: events.append(OutputStreamed(rid, "stdout", "".join(f"line {i}\n" for i in range(n)))),
            block=lambda: blocked.append(True),
            crash=lambda: (_ for _ in ()).throw(_Crashed()),
            advise=lambda kind, line=None, saw="it saw something", why="it matters", fix="do this": (
                events.append(AdviceGiven(rid, kind, line, saw, why, fix)) if self._diagnose else None),
        )
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                exec(compile(code, label, "exec"), ns)
        finally:
            if out.getvalue():
                events.insert(0, OutputStreamed(rid, "stdout", out.getvalue()))
            if err.getvalue():
                events.append(OutputStreamed(rid, "stderr", err.getvalue()))
        if blocked:
            await self._interrupt.wait()
            raise _Interrupted()


def _failure(err: BaseException, label: str, rid: int, code: str) -> CellFailed:
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == label]
    line = frames[-1].lineno if frames else None
    message = str(err) if not isinstance(err, SyntaxError) else err.msg
    if isinstance(err, SyntaxError) and err.filename == label:
        line = err.lineno
    return CellFailed(rid, type(err).__name__, message,
                      tuple(Frame(f.filename, f.lineno or 0, f.name, _source(code, f.lineno)) for f in frames),
                      None, line)


def _source(code: str, lineno: int | None) -> str | None:
    lines = code.splitlines()
    return lines[lineno - 1] if lineno and 0 < lineno <= len(lines) else None


def fake_factory(clients: list | None = None, **options):
    """A client factory for ``TutorApp`` that records the clients it made."""
    made = clients if clients is not None else []

    def make(lesson_id: str, on_event):
        client = FakeClient(lesson_id, on_event, **options)
        made.append(client)
        return client

    make.clients = made  # type: ignore[attr-defined]
    return make


__all__ = ["FakeClient", "fake_factory"]
