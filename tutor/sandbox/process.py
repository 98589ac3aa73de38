"""Client side: one incarnation of the worker (nanny + worker) on an asyncio loop.

Reads the event, status and log pipes with ``loop.add_reader`` (never blocking the
loop), writes requests without blocking, and reports the end exactly once: after
the nanny's ``exited`` report (and the worker's last events), or when the nanny
vanishes. Closing the control pipe makes the nanny kill the whole tree.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable

from tutor.sandbox.protocol import KEY_FIELD, FrameReader, ProtocolError, encode
from tutor.sandbox.reasons import Exit
from tutor.sandbox.spawn import Launched

READ_SIZE = 1 << 20
LOG_TAIL = 16 << 10


class PipeWriter:
    """Non-blocking writes of whole frames to a pipe, queued when it is full."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self.loop, self.fd = loop, fd
        os.set_blocking(fd, False)
        self._buffer = bytearray()
        self._watching = False
        self.broken = False

    def write(self, data: bytes) -> None:
        if self.broken or self.fd < 0:
            return
        if not self._buffer:
            try:
                written = os.write(self.fd, data)
            except BlockingIOError:
                written = 0
            except OSError:
                self.broken = True
                return
            data = data[written:]
        if data:
            self._buffer += data
            if not self._watching:
                self.loop.add_writer(self.fd, self._flush)
                self._watching = True

    def _flush(self) -> None:
        try:
            written = os.write(self.fd, self._buffer)
        except BlockingIOError:
            return
        except OSError:
            self.broken = True
            written = len(self._buffer)
        del self._buffer[:written]
        if not self._buffer:
            self.loop.remove_writer(self.fd)
            self._watching = False

    def close(self) -> None:
        if self.fd < 0:
            return
        if self._watching:
            self.loop.remove_writer(self.fd)
            self._watching = False
        os.close(self.fd)
        self.fd = -1


FORGED = ("a message without the worker's key reached the tutor (did the cell write to the "
          "tutor's private channel?)")


class WorkerProcess:
    """Callbacks run on the loop: ``on_message(message, blob)`` for worker frames (only
    those with the run's key), ``on_status(message, blob)`` for nanny reports,
    ``on_broken(error)`` for an unreadable or forged frame, ``on_ended(exit or None)``
    once at the end."""

    def __init__(self, loop: asyncio.AbstractEventLoop, launched: Launched, *,
                 on_message: Callable[[dict, bytes], None], on_status: Callable[[dict, bytes], None],
                 on_broken: Callable[[str], None], on_ended: Callable[[Exit | None], None]) -> None:
        self.loop = loop
        self.launched = launched
        self.on_message, self.on_status, self.on_broken, self.on_ended = on_message, on_status, on_broken, on_ended
        self.requests = PipeWriter(loop, launched.requests)
        self.control = PipeWriter(loop, launched.control)
        self.log_tail = bytearray()
        self.worker_pid: int | None = None  # as the nanny sees it (inside its namespace)
        self.exit: Exit | None = None
        self._events_reader = FrameReader()
        self._status_reader = FrameReader()
        self._readers = [launched.events, launched.status, launched.log]
        for fd, callback in ((launched.events, self._read_events), (launched.status, self._read_status),
                             (launched.log, self._read_log)):
            os.set_blocking(fd, False)
            loop.add_reader(fd, callback)
        self.ended = asyncio.Event()  # set with on_ended: the worker's end is known
        self.interrupts_in_flight = 0  # sent to the nanny, its SIGINT not yet confirmed
        self.ended_by_cell = False  # killed because a cell left it unusable (not a crash of its own)
        self.exited = asyncio.Event()  # set when the nanny process is reaped

    # -- out ---------------------------------------------------------------------------

    def send(self, message: dict, blob: bytes = b"") -> None:
        self.requests.write(encode(message, blob))

    def send_frame(self, frame: bytes) -> None:
        """An already encoded request (``protocol.encode``)."""
        self.requests.write(frame)

    def interrupt(self) -> None:
        self.interrupts_in_flight += 1  # until the nanny says it sent the SIGINT
        self.control.write(encode({"t": "interrupt"}))

    def terminate(self) -> None:
        """SIGTERM to the worker's process group (a gentle stop; ``on_ended`` follows)."""
        self.control.write(encode({"t": "terminate"}))

    def kill(self) -> None:
        """Kill the worker and everything it started; ``on_ended`` follows."""
        self.control.write(encode({"t": "kill"}))

    # -- in ----------------------------------------------------------------------------

    def _read(self, fd: int) -> bytes | None:
        """Bytes; b"" when nothing is there now; None at end of file."""
        try:
            data = os.read(fd, READ_SIZE)
        except BlockingIOError:
            return b""
        except OSError:
            return None
        return data or None

    def _read_events(self, drain: bool = False) -> None:
        for _ in range(256 if drain else 1):
            if self.ended.is_set():
                return
            data = self._read(self.launched.events)
            if data is None:
                self._stop_reading(self.launched.events)
                return
            if not data:
                return
            try:
                frames = self._events_reader.feed(data)
            except ProtocolError as err:
                self._stop_reading(self.launched.events)
                self.on_broken(str(err))
                return
            for message, blob in frames:
                if self.ended.is_set():
                    return
                if message.pop(KEY_FIELD, None) != self.launched.key:
                    self._stop_reading(self.launched.events)
                    self.on_broken(FORGED)
                    return
                self.on_message(message, blob)

    def _read_status(self) -> None:
        data = self._read(self.launched.status)
        if data is None:
            self._finish(self.exit)
            return
        if not data:
            return
        try:
            frames = self._status_reader.feed(data)
        except ProtocolError:
            self._finish(None)
            return
        for message, blob in frames:
            kind = message.get("t")
            if kind == "spawned":
                self.worker_pid = message.get("pid")
            elif kind == "out" and self.launched.events in self._readers:
                self._read_events(drain=True)  # the worker's own last frames come first
            elif kind == "exited":
                self.exit = Exit(code=message.get("code"), signal=message.get("signal"),
                                 cause=message.get("cause"), figure=message.get("figure"),
                                 error=message.get("error"), files=message.get("files"))
                self._finish(self.exit)
                return
            self.on_status(message, blob)

    def _read_log(self) -> None:
        data = self._read(self.launched.log)
        if data is None:
            self._stop_reading(self.launched.log)
            return
        self.log_tail += data
        if len(self.log_tail) > LOG_TAIL:
            del self.log_tail[:-LOG_TAIL]

    def _stop_reading(self, fd: int) -> None:
        if fd in self._readers:
            self.loop.remove_reader(fd)
            self._readers.remove(fd)

    def log_text(self) -> str:
        # what the worker wrote as it died (faulthandler) may still be in the pipe
        for _ in range(64):
            if self.launched.log not in self._readers:
                break
            before = len(self.log_tail)
            self._read_log()
            if len(self.log_tail) == before:
                break
        return self.log_tail.decode("utf-8", "replace")

    def _finish(self, exit: Exit | None) -> None:
        if self.ended.is_set():
            return
        if self.launched.events in self._readers:
            self._read_events(drain=True)  # the worker's last words come first
        if exit is None:
            self._kill_orphans()
        self.ended.set()
        self.exit = exit
        self.on_ended(exit)
        self.close()

    def _kill_orphans(self) -> None:
        """The nanny vanished (killed from outside, or by learner code without a PID
        namespace): take down the worker's session ourselves."""
        if self.launched.namespace or not self.worker_pid:
            return  # in a namespace the kernel already killed everything with the nanny
        from tutor.sandbox import proctree

        session = self.worker_pid
        try:
            os.killpg(session, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proctree.kill_all(lambda: proctree.in_session_or_group({session}), timeout=2.0, reap=False)

    # -- the end -----------------------------------------------------------------------

    def close(self) -> None:
        """Stop listening, close our ends (the nanny then kills everything), reap."""
        self.ended.set()
        for fd in list(self._readers):
            self._stop_reading(fd)
        self.requests.close()
        self.control.close()
        for fd in (self.launched.events, self.launched.status, self.launched.log):
            try:
                os.close(fd)
            except OSError:
                pass
        self.launched.events = self.launched.status = self.launched.log = -1
        self._reap(time.monotonic() + 5.0)

    def _reap(self, deadline: float) -> None:
        process = self.launched.process
        if process.poll() is not None:
            self.exited.set()
            return
        if time.monotonic() > deadline:
            try:  # the nanny did not go in 5 s: take the whole session down ourselves
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            deadline = time.monotonic() + 60.0
        self.loop.call_later(0.02, self._reap, deadline)
