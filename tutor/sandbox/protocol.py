"""The wire format between the client, the nanny and the worker. Stdlib only.

A frame is ``!II`` (length of a JSON header, length of a binary blob), the UTF-8 JSON
header (a dict with a type under ``"t"``), then the blob (raw output bytes, image
pixels). Frames travel on dedicated pipes passed to the child, never on its stdout.

Worker -> client: ``hello`` (protocol, pid), ``ready`` (info), ``started``, ``out``
(name; blob = raw bytes), ``capped``, ``metrics``, ``plot``, ``images`` (blob =
pixels), ``failed``, ``finished``, ``gpu``, ``fatal`` (cannot start: message).
Client -> worker: ``execute`` (id, code, label), ``shutdown``.
Nanny -> client: ``nanny`` (protocol, pid, namespace), ``spawned`` (pid), ``rss``
(rss, limit), ``exited`` (code, signal, cause, figure).
Client -> nanny: ``interrupt``, ``kill``.
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
ENV_CRASH_FD = "TUTOR_SANDBOX_CRASH_FD"  # where faulthandler writes when the worker dies


class ProtocolError(Exception):
    """A frame that cannot be read: the peer is broken (restart it, never crash)."""


def encode(message: dict, blob: bytes = b"") -> bytes:
    header = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return HEADER.pack(len(header), len(blob)) + header + blob


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

    @property
    def pending(self) -> int:
        return len(self._buffer)


class FrameWriter:
    """Blocking, thread-safe frame writes to a pipe fd (the worker and nanny side)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lock = threading.Lock()

    def send(self, message: dict, blob: bytes = b"") -> None:
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
