"""The session host: one lesson's worker that outlives the app.

    python -m tutor.sessions.host '{"lesson_id": "03", ...}'   # see HostOptions

It takes the session's lock, listens on the session's socket, then forks: the parent
prints ``ready <pid>`` (or ``running`` when a live host already holds the lesson, or
``error <why>``) and exits, and the child, in its own session, serves until it ends.

The host is a client of the sandbox like the app: it owns a ``SandboxClient`` (and so
the nanny and the worker), runs what the attached app asks, and turns every event into
a sequence-numbered frame in its ``Ring``, and into the request's ``CellRecord``. One app
is attached at a time: another one is told who has the lesson (``busy``) and may take
it over, which detaches the first (as ``tmux attach -d`` does). An app that comes back
says the last frame it saw and what it showed of each cell; it gets every frame it
missed, or, when the ring no longer holds them, a catch-up of each cell with an honest
count of the lines that are gone.

It ends: when asked (``shutdown``, ``tutor sessions --stop``), on SIGTERM or SIGHUP, or
after ``idle_timeout`` seconds with no app attached and no cell running. When the worker
dies while no app is attached, the host stops it from being restarted, keeps the news
for the next app, and ends after the idle timeout like any idle host.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tutor import __version__
from tutor.config import DEFAULT_IDLE_TIMEOUT
from tutor.sandbox.events import CellFinished, CellStarted, ResourcesMeasured, WorkerState, WorkerStateChanged
from tutor.sessions import places
from tutor.sessions.codec import encode_event
from tutor.sessions.link import Channel, Link, LinkClosed, encode
from tutor.sessions.ring import DEFAULT_RING_BYTES, CellBook, CellRecord, Dropped, Seen

ATTACH_WAIT = 10.0  # seconds a new connection has to say what it wants
PUMP_BYTES = 256 * 2**10  # replay written per turn before waiting for the link to drain
MAX_NOTES = 64 * 2**10
MAX_REF = 64
STATE = "state"  # ring frames of the worker's state: an app new to this host skips the old ones
_FRESH = (WorkerState.STARTING, WorkerState.RESTARTING, WorkerState.CRASHED, WorkerState.STOPPED)
INFO_DELAY = 0.25  # seconds: session-file changes closer than this are written once


@dataclass
class HostOptions:
    """What a host is started with (JSON on its command line)."""

    lesson_id: str
    title: str = ""  # what the listing calls the lesson, e.g. "03"
    session_id: str | None = None  # default: the lesson's id (one session per lesson)
    workdir: str | None = None  # default: the lesson's workspace on this machine
    device: str = "auto"
    memory_limit: int | None = None
    prewarm: bool = True
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT
    ring_bytes: int = DEFAULT_RING_BYTES
    worker_command: list[str] | None = None  # tests: a fake worker
    interrupt_grace: float = 3.0
    output_limits: dict | None = None  # CapLimits fields (benchmarks lift the cap)
    perturb: int = 0  # tutor run --perturb K

    @classmethod
    def from_json(cls, text: str) -> "HostOptions":
        data = json.loads(text)
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @property
    def key(self) -> str:
        """What names the session (its socket and files)."""
        return self.session_id or self.lesson_id


@dataclass
class Attachment:
    """The app attached now."""

    link: Link
    who: str
    since: float
    cursor: int  # the last sequence number sent to it
    client: str | None = None  # the app's id for itself: its own reconnection replaces it silently
    old_states_until: int = 0  # an app new to this host gets the worker's state now, not its history
    tasks: list = field(default_factory=list)


class SessionHost:
    def __init__(self, options: HostOptions, paths: places.SessionPaths) -> None:
        from tutor import config
        from tutor.sandbox.client import SandboxClient

        self.options = options
        self.paths = paths
        self.host_id = os.urandom(8).hex()  # tells this host's sequence numbers from another's
        workdir = Path(options.workdir) if options.workdir else config.workspace_dir(options.lesson_id)
        kwargs: dict = {"worker_command": options.worker_command} if options.worker_command else {}
        if options.output_limits:
            from tutor.sandbox.outputcap import CapLimits

            kwargs["output_limits"] = CapLimits(**options.output_limits)
        if options.perturb:
            kwargs["perturb"] = options.perturb
        self.client = SandboxClient(workdir=workdir, device=options.device, memory_limit=options.memory_limit,
                                    prewarm=options.prewarm, on_event=self._on_worker_event,
                                    interrupt_grace=options.interrupt_grace, **kwargs)
        self.ring = _new_ring(options.ring_bytes)
        self.book = CellBook()
        self.attached: Attachment | None = None
        self.requests: dict[str, asyncio.Task] = {}
        self.running: CellRecord | None = None
        self.worker: WorkerStateChanged | None = None
        self.latest: dict[str, object] = {}  # the last worker event of each kind (a new app's start)
        self.notes: dict = {}
        self.died_away: str | None = None  # why the worker died while no app was attached
        self.started = time.time()
        self.idle_since: float | None = time.monotonic()
        self.stopping_worker = False
        self._ended = asyncio.Event()
        self._new_frames = asyncio.Event()
        self._end_reason = ""
        self._info_timer: asyncio.TimerHandle | None = None
        self._files_gone = False  # the host is ending: its session file is removed for good

    # -- life ----------------------------------------------------------------------------

    async def serve(self, server_socket: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, self.end, f"stopped by {signal.Signals(sig).name}")
        loop.add_signal_handler(signal.SIGINT, lambda: None)
        server = await asyncio.start_unix_server(self._on_connection, sock=server_socket)
        self._write_info()
        await self.client.start()
        watcher = loop.create_task(self._watch_idle())
        try:
            await self._ended.wait()
        finally:
            watcher.cancel()
            server.close()
            for task in self.requests.values():
                task.cancel()
            await self.client.shutdown()
            # From here the session file stays gone: a listing made once the app heard the
            # goodbye must not find it again (the lock is held until the process exits).
            self._files_gone = True
            places.remove_leftovers(self.paths)
            # Last: an app that asked for the end hears of it once the worker is gone.
            if self.attached is not None:
                self.attached.link.close("the session ended", goodbye=self._end_reason)
                await self.attached.link.wait_closed()

    def end(self, reason: str = "the session ended") -> None:
        self._end_reason = reason
        self._ended.set()

    async def _watch_idle(self) -> None:
        timeout = self.options.idle_timeout
        while True:
            await asyncio.sleep(min(max(timeout / 4, 0.05), 1.0))
            idle = self.attached is None and self.running is None and not self.requests
            if not idle:
                self.idle_since = None
            elif self.idle_since is None:
                self.idle_since = time.monotonic()
            elif time.monotonic() - self.idle_since >= timeout:
                self.end(f"the session was idle for {timeout:g} s")
                return

    # -- events from the sandbox -----------------------------------------------------------

    def _on_worker_event(self, event) -> None:
        self.latest[type(event).__name__] = event
        if isinstance(event, ResourcesMeasured):
            self._send_live(event)
            return
        if not isinstance(event, WorkerStateChanged):  # e.g. the warm-up's state
            self._publish(None, event)
            return
        if event.state in _FRESH and (self.worker is None or self.worker.state not in _FRESH):
            self.notes = {}  # a new worker: what the app noted of the old one no longer holds
        self.worker = event
        if event.state in (WorkerState.RESTARTING, WorkerState.CRASHED) and self.attached is None \
                and not self.stopping_worker and event.reason:
            # Nobody is here to use a fresh worker: keep the news, free the machine.
            self.died_away = event.reason
            self.stopping_worker = True
            asyncio.get_running_loop().create_task(self._stop_worker_for_now())
        self._publish(None, event)
        self._write_info(soon=True)

    async def _stop_worker_for_now(self) -> None:
        try:
            await self.client.shutdown()
        finally:
            self.stopping_worker = False
            self._write_info()

    def _publish(self, ref: str | None, event) -> None:
        """One sandbox event: into the cell's record and the ring, then to the app."""
        seq = self.ring.next_seq()
        header = {"t": "ev", "seq": seq, "ref": ref}
        record = self.book.get(ref) if ref is not None else None
        if record is not None:
            record.take(event, seq)
            header.update(label=record.label, tag=record.tag)
        header["e"], blob = encode_event(event)
        self.ring.append(seq, encode(Channel.EVENT, header, blob), STATE if ref is None else "")
        self._new_frames.set()

    def _send_live(self, event) -> None:
        """An event only worth sending now (resources): skipped when the link is busy."""
        attached = self.attached
        if attached is not None and attached.link.buffered < 64 * 1024:
            description, blob = encode_event(event)
            attached.link.send(Channel.EVENT, {"t": "ev", "seq": None, "ref": None, "e": description}, blob)

    # -- requests ------------------------------------------------------------------------

    def _execute(self, message: dict) -> None:
        ref = message.get("ref")
        code = message.get("code")
        if not isinstance(ref, str) or not ref or len(ref) > MAX_REF or not isinstance(code, str):
            return
        if ref in self.requests or self.book.get(ref) is not None:
            return  # sent twice (a resend after a reconnect): it runs once
        label = message.get("label") if isinstance(message.get("label"), str) else "<cell>"
        timeout = message.get("timeout")
        timeout = float(timeout) if isinstance(timeout, (int, float)) and timeout > 0 else None
        tag = message.get("tag") if isinstance(message.get("tag"), dict) else {}
        diagnose = message.get("diagnose") is True
        record = self.book.open(CellRecord(ref, label, tag, time.time()))
        self.died_away = None
        self.requests[ref] = asyncio.get_running_loop().create_task(self._run(record, code, timeout, diagnose))

    async def _run(self, record: CellRecord, code: str, timeout: float | None, diagnose: bool) -> None:
        finished = False
        kwargs = {"diagnose": True} if diagnose else {}
        try:
            async for event in self.client.execute(code, label=record.label, timeout=timeout, **kwargs):
                if isinstance(event, CellStarted):
                    self.running = record
                    record.started_at = time.time()
                    self._write_info(soon=True)
                elif isinstance(event, CellFinished):
                    finished = True
                    if self.running is record:
                        self.running = None
                self._publish(record.ref, event)
                if finished:
                    self._write_info(soon=True)
        finally:
            self.requests.pop(record.ref, None)
            if self.running is record:
                self.running = None
            if not finished:  # cancelled: the app stopped waiting, or the session ends
                rid, took = record.request_id, time.time() - record.started_at
                if self._ended.is_set():
                    ending = CellFinished(rid, "killed", took, f"The session ended ({self._end_reason}): "
                                                               "variables lost.", True, ())
                else:
                    ending = CellFinished(rid, "interrupted", took, "Stopped: the app stopped waiting for it.",
                                          False, ())
                self._publish(record.ref, ending)
                self._write_info(soon=True)

    def _cancel(self, ref) -> None:
        task = self.requests.get(ref) if isinstance(ref, str) else None
        if task is not None:
            task.cancel()

    async def _handle_request(self, attachment: Attachment, message: dict) -> None:
        kind = message["t"]
        if kind == "execute":
            self._execute(message)
        elif kind == "cancel":
            self._cancel(message.get("ref"))
        elif kind == "interrupt":
            await self.client.interrupt()
        elif kind == "restart":
            self.died_away = None
            await self.client.restart()
        elif kind == "start":
            await self.client.start()
        elif kind == "notes":
            notes = message.get("notes")
            if isinstance(notes, dict) and len(json.dumps(notes)) <= MAX_NOTES:
                self.notes = notes
        elif kind == "detach":
            self._detach(attachment, "the app detached")
        elif kind == "shutdown":
            self.end("the app ended the session")

    # -- connections ---------------------------------------------------------------------

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        try:
            uid = places.peer_uid(sock) if sock is not None else None
        except OSError:
            uid = None
        if uid != os.getuid():
            writer.close()
            return
        link = Link(reader, writer, role="host", peer="the app")
        try:
            await link.handshake()
            frame = await asyncio.wait_for(link.receive(), ATTACH_WAIT)
        except (LinkClosed, asyncio.TimeoutError):
            link.close("no attach")
            return
        message = frame.message
        if frame.channel is not Channel.SESSION:
            link.close("not a session request", goodbye="expected a session request first")
            return
        kind = message["t"]
        if kind == "stop":
            link.send(Channel.SESSION, {"t": "stopping"})
            await _drain_quietly(link)
            link.close("stopped")
            self.end("stopped by tutor sessions --stop")
            return
        if kind == "status":
            link.send(Channel.SESSION, {"t": "status", **self.describe()})
            await _drain_quietly(link)
            link.close("status sent")
            return
        if kind != "attach":
            link.close("unknown session request", goodbye=f"unknown session request {kind[:40]!r}")
            return
        await self._attach(link, message)

    async def _attach(self, link: Link, message: dict) -> None:
        who = message.get("who") if isinstance(message.get("who"), str) else "another tutor"
        client = message.get("client") if isinstance(message.get("client"), str) else None
        current = self.attached
        if current is not None and client is not None and current.client == client:
            self._detach(current, "replaced by its own reconnection")  # its old link is half-open
        elif current is not None and not message.get("takeover"):
            link.send(Channel.SESSION, {"t": "busy", "who": current.who, "since": current.since})
            await _drain_quietly(link)
            link.close("busy")
            return
        elif current is not None:
            current.link.send(Channel.SESSION, {"t": "taken_over", "who": who[:120]})
            self._detach(current, "taken over", goodbye=f"Another tutor took this lesson over ({who[:80]}).")
        since = message.get("since") if type(message.get("since")) is int else 0
        if message.get("host") != self.host_id:
            since, seen_by_ref = 0, {}
        else:
            raw = message.get("seen")
            seen_by_ref = {ref: Seen.from_list(value) for ref, value in raw.items()} if isinstance(raw, dict) else {}
        attachment = Attachment(link, who[:120], time.time(), cursor=since, client=client,
                                old_states_until=self.ring.last_seq if since == 0 else 0)
        self.attached = attachment
        self.idle_since = None
        link.send(Channel.SESSION, {"t": "attached", **self.describe(), "notes": self.notes,
                                    "last_seq": self.ring.last_seq})
        for event in self.latest.values():
            self._send_now(link, None, event)
        if not self.ring.holds_after(since):
            self._catch_up(attachment, since, seen_by_ref)
        self.died_away = None
        if self.client.state is WorkerState.STOPPED and not self.stopping_worker:
            await self.client.start()
        self._write_info()
        loop = asyncio.get_running_loop()
        attachment.tasks = [loop.create_task(self._pump(attachment))]
        try:
            while self.attached is attachment:
                try:
                    frame = await link.receive()
                except LinkClosed:
                    break
                if frame.channel is Channel.REQUEST:
                    await self._handle_request(attachment, frame.message)
        finally:
            self._detach(attachment, link.closed_reason or "gone")

    def _catch_up(self, attachment: Attachment, since: int, seen_by_ref: dict[str, Seen]) -> None:
        """The ring lost frames the app missed: send each changed cell's catch-up."""
        link = attachment.link
        total_lines = 0
        for record in self.book.changed_after(since):
            for event in record.catch_up(seen_by_ref.get(record.ref, Seen())):
                if isinstance(event, Dropped):
                    total_lines += event.lines
                    link.send(Channel.SESSION, {"t": "dropped", "ref": record.ref, "id": event.request_id,
                                                "lines": event.lines, "chars": event.chars,
                                                "label": record.label, "tag": record.tag})
                else:
                    self._send_now(link, record.ref, event, catch_up=True)
        link.send(Channel.SESSION, {"t": "caught_up", "lines": total_lines, "seq": self.ring.last_seq})
        attachment.cursor = self.ring.last_seq

    def _send_now(self, link: Link, ref: str | None, event, *, catch_up: bool = False) -> None:
        description, blob = encode_event(event)
        header = {"t": "ev", "seq": None, "ref": ref, "e": description}
        if ref is not None:
            record = self.book.get(ref)
            if record is not None:
                header.update(label=record.label, tag=record.tag)
        if catch_up:
            header["catch_up"] = True
        link.send(Channel.EVENT, header, blob)

    async def _pump(self, attachment: Attachment) -> None:
        """Send the attached app every frame after its cursor, as fast as it takes them."""
        link = attachment.link
        try:
            while self.attached is attachment and not link.closed:
                if not self.ring.holds_after(attachment.cursor):
                    # It fell a whole ring behind: it reconnects and catches up from what it showed.
                    link.close("fell behind", goodbye="The app fell too far behind the worker; reconnecting.")
                    return
                frames = self.ring.after(attachment.cursor, PUMP_BYTES)
                if not frames:
                    self._new_frames.clear()
                    await self._new_frames.wait()
                    continue
                skip = attachment.old_states_until
                link.send_bytes(b"".join(data for seq, data, kind in frames if kind != STATE or seq > skip))
                attachment.cursor = frames[-1][0]
                await link.drain()
        except LinkClosed:
            pass

    def _detach(self, attachment: Attachment, reason: str, goodbye: str | None = None) -> None:
        if self.attached is attachment:
            self.attached = None
            self.idle_since = time.monotonic() if self.running is None else None
            self._write_info()
        for task in attachment.tasks:
            task.cancel()
        attachment.link.close(reason, goodbye=goodbye)

    # -- what the listing shows ----------------------------------------------------------

    def describe(self) -> dict:
        running = self.running
        state = "running" if running is not None else ("crashed" if self.died_away else "idle")
        info = self.worker.info if self.worker is not None else None
        return {
            "lesson": self.options.lesson_id, "session": self.options.key, "title": self.options.title,
            "pid": os.getpid(),
            "host": self.host_id, "started": self.started, "tutor": __version__, "state": state,
            "running": _what(running) if running is not None else None,
            "since": running.started_at if running is not None else None,
            "attached": self.attached is not None,
            "attached_who": self.attached.who if self.attached is not None else None,
            "device": info.device if info is not None else self.options.device,
            "reason": self.died_away,
            "cells": sum(1 for _ in self.book),
            "worker": self.worker.state.value if self.worker is not None else "starting",
        }

    def _write_info(self, *, soon: bool = False) -> None:
        """Rewrite the session file: now, or ``soon`` (changes within INFO_DELAY are
        written once: a cell's start and end cost a file write each otherwise)."""
        if soon:
            if self._info_timer is None:
                self._info_timer = asyncio.get_running_loop().call_later(INFO_DELAY, self._write_info)
            return
        if self._info_timer is not None:
            self._info_timer.cancel()
            self._info_timer = None
        if self._files_gone:
            return
        try:
            places.write_info(self.paths, self.describe())
        except OSError:
            pass  # the listing is a convenience: never a reason to stop


def _what(record: CellRecord) -> str:
    title = record.tag.get("title") if isinstance(record.tag.get("title"), str) else None
    return title or record.label


def _new_ring(max_bytes: int):
    from tutor.sessions.ring import Ring

    return Ring(max_bytes)


async def _drain_quietly(link: Link) -> None:
    try:
        await asyncio.wait_for(link.drain(), 2.0)
    except (LinkClosed, asyncio.TimeoutError):
        pass


# -- starting a host ---------------------------------------------------------------------


def launch(options: HostOptions) -> str:
    """In the launching process: take the lock, listen, fork. Returns what to print."""
    try:
        folder = places.ensure_runtime_dir()
    except places.SessionPlaceError as err:
        return f"error {err}"
    paths = places.SessionPaths.of(options.key, folder)
    lock = places.take_lock(paths)
    if lock is None:
        return "running"
    places.remove_leftovers(paths)
    try:
        server = places.listen(paths)
    except OSError as err:
        os.close(lock)
        return f"error cannot listen on {paths.socket}: {err.strerror or err}"
    sys.stdout.flush()
    pid = os.fork()
    if pid:
        os.close(lock)  # the child holds it now
        server.close()
        return f"ready {pid}"
    _become_daemon(paths)
    os.set_inheritable(lock, False)
    code = 0
    try:
        asyncio.run(SessionHost(options, paths).serve(server))
    except BaseException:  # the log file is the only place left to say it
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        places.remove_leftovers(paths)
        os.close(lock)
    os._exit(code)


def _become_daemon(paths: places.SessionPaths) -> None:
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    log = os.open(paths.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(devnull)
    os.close(log)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        options = HostOptions.from_json(argv[0])
    except (IndexError, ValueError, TypeError) as err:
        print(f"error bad host options: {err}", flush=True)
        return 2
    print(launch(options), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
