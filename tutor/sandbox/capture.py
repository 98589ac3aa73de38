"""Worker side: capture fd 1 and fd 2 and stream them to the client in batches.

Each fd becomes the write end of a pipe, so C extensions, ``os.system``, subprocesses
and torch warnings are captured as well as ``print``. ``sys.stdout``/``sys.stderr``
are block-buffered text streams on those fds; a flusher thread pushes their buffers
every 20 ms while a cell runs, and a pump thread reads the pipes, applies the per-cell
cap and sends ``out`` frames of up to 64 KiB every 20 ms. Output while no cell runs
(a background thread printing) is read and dropped.

The pipes come from the nanny (``TUTOR_SANDBOX_CAPTURE``), which keeps its own copy of
the read ends: what the worker printed just before it died (``os._exit``, a crash) is
still in the pipe, and the nanny passes it on after the exit.
"""

from __future__ import annotations

import io
import os
import select
import struct
import sys
import threading
import time

try:
    import fcntl
    import termios
except ImportError:  # not POSIX: batches go out when their time is up
    pass

from tutor.sandbox.outputcap import CapLimits, OutputBudget
from tutor.sandbox.protocol import ENV_CAPTURE_FDS, FrameWriter, enlarge_pipe

BATCH_BYTES = 64 << 10
BATCH_SECONDS = 0.02
IDLE_SECONDS = 0.25
READ_SIZE = 1 << 20
DRAIN_TIMEOUT = 10.0
POLL_FULL = 0.005  # how often a gathering batch checks whether the pipes are full
STREAMS = (("stdout", 1), ("stderr", 2))


def waiting(fds: list[int]) -> int:
    """Bytes waiting in these pipes (FIONREAD); a big number where that is not known."""
    total = 0
    for fd in fds:
        try:
            total += struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        except (OSError, NameError):
            return 1 << 30
    return total


def pipes_from_environment() -> list[tuple[int, int]] | None:
    """The (read, write) pipe pairs the nanny made for fds 1 and 2, if it did."""
    value = os.environ.pop(ENV_CAPTURE_FDS, "")
    try:
        fds = [int(fd) for fd in value.split(",")]
    except ValueError:
        return None
    return [(fds[0], fds[1]), (fds[2], fds[3])] if len(fds) == 4 else None


def text_stream(fd: int) -> io.TextIOWrapper:
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(io.BufferedWriter(raw, buffer_size=BATCH_BYTES), encoding="utf-8",
                            errors="backslashreplace", newline="\n", line_buffering=False)


class OutputCapture:
    """Owns fds 1 and 2 for the worker's lifetime; ``begin``/``end`` bracket a cell."""

    def __init__(self, channel: FrameWriter, limits: CapLimits | None = None,
                 pipes: list[tuple[int, int]] | None = None) -> None:
        self.channel = channel
        self.limits = limits or CapLimits()
        self.readers: dict[int, str] = {}
        self.keep: dict[int, int] = {}  # fd -> a spare copy of its pipe end, to restore it
        for index, (name, fd) in enumerate(STREAMS):
            read_end, write_end = pipes[index] if pipes else os.pipe()
            for end in (read_end, write_end):
                os.set_inheritable(end, False)
            enlarge_pipe(write_end)
            os.dup2(write_end, fd)
            self.keep[fd] = write_end  # stays open (non-inheritable)
            os.set_blocking(read_end, False)
            self.readers[read_end] = name
        self.stdout = text_stream(1)
        self.stderr = text_stream(2)
        sys.stdout, sys.stderr = self.stdout, self.stderr
        self.request_id: int | None = None
        self.budget: OutputBudget | None = None
        self._pending: list[tuple[str, list[bytes]]] = []
        self._pending_bytes = 0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._drain_requested = False
        self._drained = threading.Event()
        self._active = threading.Event()
        self.extra_tick = None  # called by the flusher while a cell runs (live charts)
        self.idle_tick = None  # called about once a second (GPU memory)
        self.pump = threading.Thread(target=self._pump, name="tutor-output-pump", daemon=True)
        self.flusher = threading.Thread(target=self._flush_loop, name="tutor-output-flusher", daemon=True)
        # A fork must not copy unflushed output (the child would print it again) nor
        # happen while the flusher holds a buffer's lock (the child's would stay held).
        self.flush_lock = threading.Lock()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(before=self._before_fork, after_in_parent=self.flush_lock.release,
                                after_in_child=self.flush_lock.release)
        self.pump.start()
        self.flusher.start()

    @property
    def own_threads(self) -> tuple[threading.Thread, ...]:
        return (self.pump, self.flusher)

    # -- the cell bracket (main thread) ---------------------------------------------

    def begin(self, request_id: int) -> None:
        self.request_id = request_id
        self.budget = OutputBudget(self.limits)
        self._active.set()

    def end(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Flush, send everything the cell wrote, then the cap summary and the tail."""
        self.send_written(timeout)
        self._active.clear()
        self.request_id = None
        self.budget = None

    def send_written(self, timeout: float = DRAIN_TIMEOUT) -> None:
        """Flush and send everything the cell wrote so far (then the cap summary and the
        tail, if it was capped): before the cell's error, so that what it printed
        comes first, as in a terminal. What it writes later is sent as usual."""
        self.flush_python()
        self._drained.clear()
        self._drain_requested = True
        self._wake()
        self._drained.wait(timeout)  # never hang the worker on its own plumbing

    def repair(self) -> None:
        """After a cell: undo ``os.close(1)``, ``sys.stdout.close()`` and the like."""
        for name, fd in STREAMS:
            try:
                same = os.path.sameopenfile(fd, self.keep[fd])
            except OSError:
                same = False
            if not same:
                os.dup2(self.keep[fd], fd)
        if self.stdout.closed:
            self.stdout = text_stream(1)
        if self.stderr.closed:
            self.stderr = text_stream(2)
        if sys.stdout is None or getattr(sys.stdout, "closed", False):
            sys.stdout = self.stdout
        if sys.stderr is None or getattr(sys.stderr, "closed", False):
            sys.stderr = self.stderr
        sys.__stdout__, sys.__stderr__ = self.stdout, self.stderr

    def _before_fork(self) -> None:
        self.flush_lock.acquire()
        self.flush_python()

    def flush_python(self) -> None:
        for stream in (self.stdout, self.stderr, sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # a closed or odd stream set by learner code
                pass

    # -- threads ---------------------------------------------------------------------

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except BlockingIOError:
            pass

    def _flush_loop(self) -> None:
        while True:
            try:
                self._flush_forever()
            except BaseException:  # MemoryError under the data limit, say: keep going
                time.sleep(BATCH_SECONDS)

    def _flush_forever(self) -> None:
        last_idle_tick = 0.0
        while True:
            active = self._active.wait(IDLE_SECONDS)
            if active:
                time.sleep(BATCH_SECONDS)
                with self.flush_lock:
                    self.flush_python()
                if self.extra_tick:
                    self.extra_tick()
            now = time.monotonic()
            if self.idle_tick and now - last_idle_tick >= 1.0:
                last_idle_tick = now
                self.idle_tick()

    def _pump(self) -> None:
        while True:
            try:
                self._pump_forever()
            except BaseException:  # MemoryError under the data limit, say: keep going
                self._pending, self._pending_bytes = [], 0
                if self._drain_requested:
                    self._drain_requested = False
                    self._drained.set()
                time.sleep(BATCH_SECONDS)

    def _pump_forever(self) -> None:
        """Output waits in the pipes, not in this process, until its batch goes out
        (BATCH_SECONDS after the first byte, or once BATCH_BYTES are waiting): then a
        worker that dies at once (``os._exit`` from C, a segfault) loses nothing it
        printed, since the nanny reads what is left in the pipes."""
        data_fds = list(self.readers)
        everything = data_fds + [self._wake_r]
        batch_ends: float | None = None
        while True:
            if batch_ends is None:
                watched, timeout = everything, None
            else:  # a batch is gathering in the pipes: wake for a drain or a full pipe
                watched, timeout = [self._wake_r], max(min(batch_ends - time.monotonic(), POLL_FULL), 0)
            try:
                readable, _, _ = select.select(watched, [], [], timeout)
            except InterruptedError:
                continue
            if self._wake_r in readable:
                try:
                    os.read(self._wake_r, 4096)
                except BlockingIOError:
                    pass
            draining = self._drain_requested
            if batch_ends is None and not draining:
                if any(fd in readable for fd in data_fds):
                    batch_ends = time.monotonic() + BATCH_SECONDS
                continue
            if not draining and time.monotonic() < batch_ends and waiting(data_fds) < BATCH_BYTES:
                continue
            batch_ends = None
            self._read_available(data_fds, until_empty=True)
            self._send_pending()
            if draining:
                self._send_cap_summary()
                self._drain_requested = False
                self._drained.set()

    def _read_available(self, readable: list[int], until_empty: bool) -> None:
        for fd in readable:
            name = self.readers.get(fd)
            if name is None:
                continue
            for _ in range(64 if until_empty else 4):
                try:
                    data = os.read(fd, READ_SIZE)
                except BlockingIOError:
                    break
                if not data:
                    break
                self._take(name, data)
                if not until_empty and self._pending_bytes >= BATCH_BYTES:
                    break

    def _take(self, name: str, data: bytes) -> None:
        budget = self.budget
        if budget is None or self.request_id is None:
            return  # nobody is listening: a background thread printing between cells
        head = budget.take(name, data)
        if head:
            if self._pending and self._pending[-1][0] == name:
                self._pending[-1][1].append(head)
            else:
                self._pending.append((name, [head]))
            self._pending_bytes += len(head)

    def _send_pending(self) -> None:
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        request_id = self.request_id
        if request_id is None:
            return
        for name, chunks in pending:
            self.channel.send({"t": "out", "id": request_id, "name": name}, b"".join(chunks))

    def _send_cap_summary(self) -> None:
        budget, request_id = self.budget, self.request_id
        if budget is None or request_id is None:
            return
        result = budget.finish()
        if result is None:
            return
        self.budget = OutputBudget(self.limits)  # what comes after (late threads) starts a new count
        self.channel.send({"t": "capped", "id": request_id, "lines": result.dropped_lines,
                           "bytes": result.dropped_bytes})
        for name, data in result.tail:
            self.channel.send({"t": "out", "id": request_id, "name": name}, data)
