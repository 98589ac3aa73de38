"""The link: one byte stream between a tutor app and a session host. Stdlib only.

The stream is a Unix socket (local), or ``ssh -T``'s stdin and stdout with a relay on
the far side (remote). Over it:

1. **A greeting**, one ASCII line each way: ``tutor-link <version> <tutor version>
   <role>``. Its form never changes, so two tutors of any versions can tell each other
   which versions they speak. The app skips what a login shell may print first (up to
   ``MAX_PREAMBLE`` bytes) and keeps it to explain a failure.
2. **Frames**, each tagged with its channel: ``!BII`` (channel, length of a JSON header,
   length of a binary blob), the UTF-8 JSON header (a dict with a type under ``"t"``),
   then the blob. Lengths are checked before anything is kept, so a malformed, hostile
   or huge frame ends the link with a message and never makes us allocate more than
   ``MAX_HEADER + MAX_BLOB``.
3. **A heartbeat**: each side sends a ``ping`` when it has sent nothing for
   ``interval`` seconds, and gives the link up when nothing at all arrived for
   ``timeout`` seconds, so a half-open connection (a dead network under ssh) is
   noticed within seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import time
from collections import deque
from dataclasses import dataclass
from enum import IntEnum

from tutor import __version__
from tutor.sandbox.sanitize import sanitize

LINK_VERSION = 1
FRAME = struct.Struct("!BII")
MAX_HEADER = 4 * 2**20
MAX_BLOB = 64 * 2**20
GREETING_PREFIX = b"tutor-link "
MAX_GREETING = 200  # bytes in the greeting line itself
MAX_PREAMBLE = 64 * 2**10  # what a login shell may print before the greeting
READ_SIZE = 1 << 16
QUEUED_FRAMES = 4096  # frames read ahead of the consumer before we stop reading

HANDSHAKE_TIMEOUT = 60.0  # ssh may take its time (a jump host), and the far side starts a host
DEFAULT_INTERVAL = 1.0
DEFAULT_TIMEOUT = 6.0
ENV_TIMEOUT = "TUTOR_LINK_TIMEOUT"  # seconds of silence before a link is given up


class Channel(IntEnum):
    LINK = 0  # heartbeat and goodbye: handled here, never seen by users of Link
    SESSION = 1  # attach, attached, busy, taken over, gap (host <-> app)
    EVENT = 2  # what the sandbox reported, sequence-numbered (host -> app)
    REQUEST = 3  # execute, interrupt, restart, shutdown, detach (app -> host)


class LinkError(Exception):
    """The other end sent something unreadable: the link ends with this message.
    ``frames``: the good frames that came before it in the same read."""

    def __init__(self, message: str, frames: list | None = None) -> None:
        super().__init__(message)
        self.frames = frames or []


class LinkClosed(Exception):
    """The link ended; ``str(err)`` says why in plain words. ``output``: what the
    other end printed instead of a greeting, if that is how it ended."""

    def __init__(self, reason: str, output: str = "") -> None:
        super().__init__(reason)
        self.output = output


@dataclass(frozen=True)
class Greeting:
    version: int
    tutor: str
    role: str


@dataclass(frozen=True)
class Frame:
    channel: Channel
    message: dict
    blob: bytes = b""


def link_timeout() -> float:
    try:
        return max(float(os.environ.get(ENV_TIMEOUT, "")), 0.5)
    except ValueError:
        return DEFAULT_TIMEOUT


# -- the greeting ---------------------------------------------------------------------


def greeting(role: str, version: int = LINK_VERSION) -> bytes:
    return GREETING_PREFIX + f"{version} {__version__} {role}\n".encode("ascii")


def parse_greeting(line: bytes) -> Greeting:
    """``tutor-link 1 0.1.0 host`` -> Greeting; LinkError when it is not one."""
    parts = line.strip().split()
    try:
        if len(parts) < 4 or parts[0] != GREETING_PREFIX.strip():
            raise ValueError
        return Greeting(int(parts[1]), sanitize(parts[2].decode("ascii"))[:40],
                        sanitize(parts[3].decode("ascii"))[:20])
    except (ValueError, UnicodeDecodeError):
        raise LinkError(f"not a tutor greeting: {sanitize(line[:80].decode('utf-8', 'replace'))!r}") from None


async def read_greeting(reader: asyncio.StreamReader, *, preamble: bool = False) -> tuple[Greeting, str, bytes]:
    """Read the peer's greeting: (greeting, what came before it, bytes after it).

    ``preamble``: tolerate lines before the greeting (what a login shell prints over
    ssh); otherwise the greeting must come first. At end of file first: LinkClosed,
    with what came instead in its ``output``."""
    buffer = bytearray()
    skipped = bytearray()
    while True:
        newline = buffer.find(b"\n")
        while newline >= 0:
            line = bytes(buffer[:newline + 1])
            del buffer[:newline + 1]
            if line.startswith(GREETING_PREFIX):
                return parse_greeting(line), _shown(skipped), bytes(buffer)
            if not preamble:
                raise LinkError(f"not a tutor greeting: {_shown(line[:80])!r}")
            skipped += line
            newline = buffer.find(b"\n")
        if not preamble and len(buffer) > MAX_GREETING:
            raise LinkError("not a tutor greeting: a long line without an end")
        if len(skipped) + len(buffer) > MAX_PREAMBLE:
            raise LinkError(f"no tutor greeting in the first {MAX_PREAMBLE // 1024} KiB the other end sent")
        try:
            data = await reader.read(4096)
        except (ConnectionError, OSError) as err:
            raise LinkClosed(f"the connection failed before the greeting ({err})") from None
        if not data:
            raise LinkClosed("the other end closed the connection before its greeting",
                             output=_shown(skipped + buffer))
        buffer += data


def _shown(data: bytes) -> str:
    """Bytes the peer sent instead of frames, made safe to show (the last 500 characters)."""
    return sanitize(data.decode("utf-8", "replace").strip())[-500:]


# -- frames ---------------------------------------------------------------------------


def encode(channel: Channel, message: dict, blob: bytes = b"") -> bytes:
    header = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(header) > MAX_HEADER or len(blob) > MAX_BLOB:
        raise ValueError(f"frame too large to send ({len(header)} + {len(blob)} bytes)")
    return FRAME.pack(int(channel), len(header), len(blob)) + header + blob


class FrameDecoder:
    """Incremental and bounded: ``feed(bytes)`` -> the complete frames; LinkError for
    a frame that cannot be one (unknown channel, bad lengths, unreadable header)."""

    def __init__(self, max_header: int = MAX_HEADER, max_blob: int = MAX_BLOB) -> None:
        self.max_header, self.max_blob = max_header, max_blob
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        buffer = self._buffer
        buffer += data
        frames: list[Frame] = []
        offset = 0
        while len(buffer) - offset >= FRAME.size:
            channel, header_len, blob_len = FRAME.unpack_from(buffer, offset)
            if channel not in _CHANNELS:
                raise LinkError(f"a frame on unknown channel {channel}", frames)
            if header_len == 0 or header_len > self.max_header or blob_len > self.max_blob:
                raise LinkError(f"a frame of impossible size ({header_len} + {blob_len} bytes)", frames)
            end = offset + FRAME.size + header_len + blob_len
            if len(buffer) < end:
                break
            start = offset + FRAME.size
            try:
                message = json.loads(bytes(buffer[start:start + header_len]))
            except (UnicodeDecodeError, ValueError, RecursionError):
                raise LinkError("a frame whose header is not JSON", frames) from None
            if not isinstance(message, dict) or not isinstance(message.get("t"), str):
                raise LinkError("a frame whose header is not a message", frames)
            frames.append(Frame(Channel(channel), message, bytes(buffer[start + header_len:end])))
            offset = end
        if offset:
            del buffer[:offset]
        return frames

    @property
    def pending(self) -> int:
        return len(self._buffer)


_CHANNELS = frozenset(int(c) for c in Channel)


# -- the link -------------------------------------------------------------------------


class Link:
    """Frames over an asyncio (reader, writer) pair, with the heartbeat.

    ``peer`` names the other end in messages ("the session host", "gpu-box").
    Call ``await handshake()`` first; then ``send()`` frames (buffered, never blocks;
    ``await drain()`` for back-pressure) and ``await receive()`` them. ``receive``
    raises LinkClosed when the link ends, for whatever reason (end of file, silence
    past the timeout, an unreadable frame, the peer's goodbye, ``close()``)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, role: str,
                 peer: str = "the other end", interval: float = DEFAULT_INTERVAL,
                 timeout: float | None = None, decoder: FrameDecoder | None = None) -> None:
        self.reader, self.writer = reader, writer
        self.role = role
        self.peer = peer
        self.interval = interval
        self.timeout = timeout if timeout is not None else link_timeout()
        self.peer_greeting: Greeting | None = None
        self.preamble = ""
        self.bytes_received = 0
        self._decoder = decoder or FrameDecoder()
        self._frames: deque[Frame] = deque()
        self._arrived = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._closed_reason: str | None = None
        self._last_sent = self._last_received = time.monotonic()
        self._tasks: list[asyncio.Task] = []

    @property
    def closed(self) -> bool:
        return self._closed_reason is not None

    @property
    def closed_reason(self) -> str | None:
        return self._closed_reason

    async def handshake(self, *, preamble: bool = False, versions: tuple[int, ...] = (LINK_VERSION,),
                        timeout: float = HANDSHAKE_TIMEOUT) -> Greeting:
        """Send our greeting, read theirs. Raises LinkClosed (message for the user)."""
        self._write(greeting(self.role))
        try:
            peer, self.preamble, rest = await asyncio.wait_for(read_greeting(self.reader, preamble=preamble),
                                                              timeout)
        except asyncio.TimeoutError:
            self._shut(f"{self.peer} did not answer within {timeout:g} s")
            raise LinkClosed(self._closed_reason) from None
        except LinkError as err:
            self._shut(f"{self.peer} is not a tutor session: {err}")
            raise LinkClosed(self._closed_reason) from None
        except LinkClosed as err:
            self._shut(str(err))
            self.preamble = err.output
            raise
        self.peer_greeting = peer
        if peer.version not in versions:
            self._shut(version_mismatch(self.peer, peer))
            raise LinkClosed(self._closed_reason)
        self._last_received = time.monotonic()
        if rest:
            self._take(rest)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read_loop()), loop.create_task(self._heartbeat())]
        return peer

    # -- out -------------------------------------------------------------------------

    def send(self, channel: Channel, message: dict, blob: bytes = b"") -> None:
        self.send_bytes(encode(channel, message, blob))

    def send_bytes(self, data: bytes) -> None:
        """Send frames already encoded (the host's ring buffer keeps them so)."""
        if self._closed_reason is None:
            self._write(data)

    def _write(self, data: bytes) -> None:
        try:
            self.writer.write(data)
        except (ConnectionError, OSError, RuntimeError) as err:
            self._shut(f"the connection to {self.peer} failed ({err})")
            return
        self._last_sent = time.monotonic()

    @property
    def buffered(self) -> int:
        """Bytes written but not yet handed to the system."""
        transport = self.writer.transport
        try:
            return transport.get_write_buffer_size()
        except (AttributeError, RuntimeError):
            return 0

    async def drain(self) -> None:
        if self._closed_reason is not None:
            raise LinkClosed(self._closed_reason)
        try:
            await self.writer.drain()
        except (ConnectionError, OSError, RuntimeError) as err:
            self._shut(f"the connection to {self.peer} failed ({err})")
        if self._closed_reason is not None:
            raise LinkClosed(self._closed_reason)

    # -- in --------------------------------------------------------------------------

    async def receive(self) -> Frame:
        while not self._frames:
            if self._closed_reason is not None:
                raise LinkClosed(self._closed_reason)
            self._arrived.clear()
            await self._arrived.wait()
        frame = self._frames.popleft()
        if len(self._frames) < QUEUED_FRAMES // 2 and not self._room.is_set():
            # Reading again: the silence clock restarts (it stood still while we did not read).
            self._last_received = time.monotonic()
            self._room.set()
        return frame

    async def _read_loop(self) -> None:
        while self._closed_reason is None:
            await self._room.wait()
            try:
                data = await self.reader.read(READ_SIZE)
            except (ConnectionError, OSError) as err:
                self._shut(f"the connection to {self.peer} failed ({err})")
                return
            if not data:
                self._shut(f"{self.peer} closed the connection")
                return
            self._take(data)

    def _take(self, data: bytes) -> None:
        self._last_received = time.monotonic()
        self.bytes_received += len(data)
        error = None
        try:
            frames = self._decoder.feed(data)
        except LinkError as err:
            frames, error = err.frames, err
        for frame in frames:
            if frame.channel is Channel.LINK:
                if frame.message["t"] == "bye":
                    reason = frame.message.get("reason")
                    self._shut(sanitize(reason)[:500] if isinstance(reason, str) and reason
                               else f"{self.peer} ended the connection")
                    return
                continue  # ping
            self._frames.append(frame)
        if frames:
            self._arrived.set()
        if error is not None:
            self._shut(f"{self.peer} sent an unreadable frame ({error}); the connection was closed")
        elif len(self._frames) >= QUEUED_FRAMES:
            self._room.clear()

    async def _heartbeat(self) -> None:
        step = min(self.interval, self.timeout) / 2
        while self._closed_reason is None:
            before = time.monotonic()
            await asyncio.sleep(step)
            now = time.monotonic()
            late = now - before - step
            if late > step:
                # This process stood still (a busy loop, a suspended laptop): the peer could
                # not be heard meanwhile, so that time is not its silence.
                self._last_received = min(self._last_received + late, now)
            if now - self._last_sent >= self.interval:
                self._write(encode(Channel.LINK, {"t": "ping"}))
            stalled = not self._room.is_set()  # we stopped reading ourselves: not their silence
            if not stalled and now - self._last_received > self.timeout:
                self._shut(f"no word from {self.peer} for {self.timeout:g} s: the connection is gone")

    # -- the end ---------------------------------------------------------------------

    def close(self, reason: str = "closed", *, goodbye: str | None = None) -> None:
        """End the link; ``goodbye`` is sent first as the reason the peer will show."""
        if self._closed_reason is None and goodbye is not None:
            self._write(encode(Channel.LINK, {"t": "bye", "reason": goodbye}))
        self._shut(reason)

    def _shut(self, reason: str) -> None:
        if self._closed_reason is not None:
            return
        self._closed_reason = reason
        self._arrived.set()
        self._room.set()
        try:
            current = asyncio.current_task()
        except RuntimeError:  # no loop running: nothing of ours is either
            current = None
        for task in self._tasks:
            if task is not current:
                task.cancel()
        try:
            if self.writer.can_write_eof():
                self.writer.write_eof()
        except (OSError, RuntimeError, NotImplementedError):
            pass
        self.writer.close()

    async def wait_closed(self) -> None:
        try:
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)
        except (asyncio.TimeoutError, ConnectionError, OSError, RuntimeError):
            pass


def version_mismatch(peer: str, theirs: Greeting) -> str:
    """What to do when the two ends speak different link versions."""
    if theirs.version > LINK_VERSION:
        upgrade = f"upgrade tutor here to {theirs.tutor} or newer, then install it on {peer} too"
    else:
        from tutor.sessions.transport import install_command

        upgrade = f"install this tutor on {peer} (from here: {install_command(peer)})"
    return (f"{peer} runs tutor {theirs.tutor} (link protocol {theirs.version}); this is tutor "
            f"{__version__} (link protocol {LINK_VERSION}): {upgrade}.")
