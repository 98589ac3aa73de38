"""The wire format between the client, the nanny and the worker. Stdlib only.

A frame is ``!II`` (length of a JSON header, length of a binary blob), the UTF-8 JSON
header (a dict with a type under ``"t"``), then the blob (raw output bytes, image
pixels). Frames travel on dedicated pipes passed to the child, never on its stdout.

Worker -> client: ``hello`` (protocol, pid), ``standby`` (torch imported, waiting for
``activate``), ``ready`` (info), ``warmup`` (state: warming, warm, failed; detail),
``started``, ``out`` (name; blob = raw bytes), ``capped``, ``metrics``, ``plot``,
``images`` (blob = pixels), ``failed``, ``finished``, ``gpu``.
Client -> worker: ``key`` (the first frame, written before the worker starts),
``activate`` (a standby worker: choose the device, say ready), ``execute`` (id, code,
label), ``shutdown``.
Nanny -> client: ``nanny`` (protocol, pid, namespace), ``spawned`` (pid), ``rss``
(rss, limit), ``out`` (name; blob = output the worker left in its pipes when it
ended), ``exited`` (code, signal, cause, figure, files).
Client -> nanny: ``interrupt`` (SIGINT), ``terminate`` (SIGTERM), ``kill`` (SIGKILL, everything).

Every worker frame carries ``"k"``, the per-run key the client wrote into the request
pipe before the worker started. The client drops a worker whose frames lack it: a
learner cell that writes a frame of its own onto the channel (a fake "finished ok")
cannot pass for the worker by accident. The key lives only in the worker's memory,
never in its namespace, environment or command line.

A frame is at most MAX_HEADER + MAX_BLOB bytes; ``FrameWriter.send`` refuses a bigger
one with ``FrameTooLarge`` before writing anything, so the stream stays readable.
"""

from __future__ import annotations

import json
import os
import struct
import threading

PROTOCOL_VERSION = 1

HEADER = struct.Struct("!II")
MAX_HEADER = 16 * 2**20
MAX_BLOB = 128 * 2**20

# Environment variables through which the parent tells a child its pipe fds.
ENV_WORKER_FDS = "TUTOR_SANDBOX_FDS"  # "requests_read,events_write"
ENV_CAPTURE_FDS = "TUTOR_SANDBOX_CAPTURE"  # "stdout_read,stdout_write,stderr_read,stderr_write" (nanny -> worker)


KEY_FIELD = "k"

_exit = os._exit  # the real one: the worker wraps os._exit


class ProtocolError(Exception):
    """A frame that cannot be read: the peer is broken (restart it, never crash)."""


class FrameTooLarge(ValueError):
    """A frame over the size limits: refused before anything was written."""


def encode(message: dict, blob: bytes = b"") -> bytes:
    try:
        header = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: JSON escapes it
        header = json.dumps(message, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    if len(header) > MAX_HEADER or len(blob) > MAX_BLOB:
        raise FrameTooLarge(f"{(len(header) + len(blob)) / 2**20:.1f} MiB in one message, over the "
                            f"{MAX_HEADER / 2**20:.0f} MiB limit")
    return HEADER.pack(len(header), len(blob)) + header + blob


def new_key() -> str:
    return os.urandom(16).hex()


def read_key(fd: int) -> str | None:
    """The worker side: read exactly the ``key`` frame (nothing after it) from ``fd``."""
    head = _read_exact(fd, HEADER.size)
    header_len, blob_len = HEADER.unpack(head) if head else (0, 0)
    if not head or blob_len or not 0 < header_len <= 4096:
        return None
    try:
        message = json.loads(_read_exact(fd, header_len))
    except ValueError:
        return None
    key = message.get(KEY_FIELD) if isinstance(message, dict) and message.get("t") == "key" else None
    return key if isinstance(key, str) else None


def _read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return b""
        data += chunk
    return data


class FrameReader:
    """Incremental decoder: ``feed(bytes)`` returns the complete ``(message, blob)`` pairs."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[dict, bytes]]:
        self._buffer += data
        frames: list[tuple[dict, bytes]] = []
        buffer = self._buffer
        offset = 0
        while len(buffer) - offset >= HEADER.size:
            header_len, blob_len = HEADER.unpack_from(buffer, offset)
            if header_len > MAX_HEADER or blob_len > MAX_BLOB or header_len == 0:
                raise ProtocolError(f"bad frame lengths ({header_len}, {blob_len})")
            end = offset + HEADER.size + header_len + blob_len
            if len(buffer) < end:
                break
            start = offset + HEADER.size
            try:
                message = json.loads(bytes(buffer[start:start + header_len]))
            except (UnicodeDecodeError, ValueError) as err:
                raise ProtocolError(f"unreadable frame header: {err}") from None
            if not isinstance(message, dict) or not isinstance(message.get("t"), str):
                raise ProtocolError("frame header is not a message")
            frames.append((message, bytes(buffer[start + header_len:end])))
            offset = end
        if offset:
            del buffer[:offset]
        return frames


class FrameWriter:
    """Blocking, thread-safe frame writes to a pipe fd (the worker and nanny side).

    With a ``key`` (the worker), every frame carries it. Only the process that made
    the writer may use it: a forked child of the worker that touches the channel exits
    at once, so a cell's result always comes from the worker itself."""

    def __init__(self, fd: int, key: str | None = None) -> None:
        self.fd = fd
        self.key = key
        self.pid = os.getpid()
        self._lock = threading.Lock()

    def send(self, message: dict, blob: bytes = b"") -> None:
        if os.getpid() != self.pid:
            _exit(0)
        if self.key is not None:
            message = {**message, KEY_FIELD: self.key}
        data = memoryview(encode(message, blob))
        with self._lock:
            while data:
                written = os.write(self.fd, data)
                data = data[written:]


def read_frames(fd: int, reader: FrameReader, size: int = 1 << 16) -> list[tuple[dict, bytes]] | None:
    """Blocking read of at least one byte; None at end of file."""
    data = os.read(fd, size)
    if not data:
        return None
    return reader.feed(data)


def enlarge_pipe(fd: int, size: int = 1 << 20) -> None:
    """Ask for a bigger pipe buffer (fewer wake-ups on floods); harmless if refused."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (OSError, ImportError):
        pass
