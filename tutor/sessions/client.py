"""The app's side of a session: the ``SandboxClient`` API over a link to a session host.

    client = SessionClient(LocalTransport(HostOptions(lesson_id="03")), on_event=...)
    await client.start()                       # returns at once; attaches in the background
    async for event in client.execute(code, label="cell 3", tag={"cell": "c3"}):
        ...                                    # the sandbox's events, ending with CellFinished
    await client.interrupt(); await client.restart()
    await client.detach()                      # leave; what runs goes on over there
    await client.shutdown()                    # end the session (worker and host)

So the UI and ``tutor run`` need not know where the worker is. Beyond the sandbox's
events, ``on_event`` gets ``tutor.sessions.events``: the link's state, what the host
said at attach, the events of requests this client did not start (``CellReplayed``),
and how much output was lost while away.

The client remembers the last frame it saw and what it showed of each cell, and says so
when it attaches again. Over ssh (``transport.remote``) a lost link is retried with
backoff (the cell goes on over there, and the replay brings back what was missed); a
request sent as the link fell is sent again (the host runs each request once). A local
host that vanished took its worker with it: running cells end as crashed, and the next
request starts a fresh host.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import socket
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from contextvars import ContextVar

from tutor.sandbox.events import CellFinished, OutputStreamed, WorkerState, WorkerStateChanged
from tutor.sandbox.sanitize import sanitize
from tutor.sessions.codec import BadEvent, decode_event
from tutor.sessions.events import CellReplayed, HostBusy, LinkChanged, OutputDropped, SessionAttached
from tutor.sessions.link import Channel, Link, LinkClosed
from tutor.sessions.ring import Seen
from tutor.sessions.transport import SessionUnavailable

SETTLE_TIMEOUT = 10.0  # seconds a shutdown waits for an attach under way (it may have started the host)
ATTACH_TIMEOUT = 30.0  # seconds for the host's answer to an attach (a remote host may start torch first)
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
GIVE_UP_AFTER = 15 * 60.0  # seconds of failed reconnects before the client stops trying
SEEN_KEPT = 64  # cells whose "seen" the client remembers

TakeoverQuestion = Callable[[HostBusy], Awaitable[bool]]

# What the app says about the requests it sends from this context (the cell, its
# lesson step): set around a run, it travels with each request, so an app that
# attaches later knows where to show the request's events. Callers that know nothing
# of sessions (the execution core) need not pass it.
REQUEST_TAG: ContextVar[dict | None] = ContextVar("REQUEST_TAG", default=None)


def default_who() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    tty = ""
    try:
        tty = " on " + os.ttyname(0)
    except OSError:
        pass
    return f"{user}@{socket.gethostname()}, pid {os.getpid()}{tty}"


class _Busy(Exception):
    def __init__(self, busy: HostBusy) -> None:
        super().__init__(busy.who)
        self.busy = busy


class _Pending:
    def __init__(self, ref: str, message: dict) -> None:
        self.ref = ref
        self.message = message
        self.queue: asyncio.Queue = asyncio.Queue()
        self.finished = False


class SessionClient:
    def __init__(self, transport, *, on_event: Callable[[object], None] | None = None,
                 takeover: TakeoverQuestion | None = None, who: str | None = None,
                 reconnect: bool | None = None, give_up_after: float = GIVE_UP_AFTER,
                 backoff: tuple[float, ...] = BACKOFF) -> None:
        self.transport = transport
        self.on_event = on_event
        self.takeover = takeover
        self.who = who or default_who()
        self.reconnect = transport.remote if reconnect is None else reconnect
        self.give_up_after = give_up_after
        self.backoff = backoff
        self.client_id = os.urandom(6).hex()
        self.state = WorkerState.STOPPED
        self.reason: str | None = None
        self.info = None
        self.ready = asyncio.Event()
        self.in_namespace = False
        self.host_pid: int | None = None
        self.host_id: str | None = None
        self.facts: dict = {}
        self.link_state = "detached"
        self.last_seq = 0
        self.seen: OrderedDict[str, Seen] = OrderedDict()
        self._link: Link | None = None
        self._opened = None
        self._pending: dict[str, _Pending] = {}
        self._next_ref = 0
        self._attached = asyncio.Event()
        self._changed = asyncio.Event()
        self._connecting: asyncio.Task | None = None
        self._receiver: asyncio.Task | None = None
        self._leaving = False
        self._attaching = False  # an attach is under way (it may have started the host)
        self._failure: str | None = None
        self._taken_over: str | None = None

    @property
    def supervisor_pid(self) -> int | None:
        """The session host's pid (for tests: nothing it started may be left behind)."""
        return self.host_pid

    @property
    def where(self) -> str:
        return getattr(self.transport, "where", "")

    # -- telling the app -----------------------------------------------------------------

    def _emit(self, event) -> None:
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a broken listener must not break the session
                import traceback

                traceback.print_exc()

    def _set_link(self, state: str, reason: str | None = None) -> None:
        self.link_state = state
        self._emit(LinkChanged(state, reason, self.where))
        self._poke()

    def _poke(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _set_worker(self, event: WorkerStateChanged) -> None:
        self.state, self.reason = event.state, event.reason
        self.info = event.info if event.info is not None else (
            self.info if event.state in (WorkerState.RUNNING, WorkerState.INTERRUPTING) else None)
        if event.state is WorkerState.READY:
            self.ready.set()
        elif event.state not in (WorkerState.RUNNING, WorkerState.INTERRUPTING):
            self.ready.clear()
        self._emit(event)
        self._poke()

    def _worker_gone(self, state: WorkerState, reason: str) -> None:
        self._set_worker(WorkerStateChanged(state, reason, None))

    # -- attaching -----------------------------------------------------------------------

    async def start(self) -> None:
        """Attach (starting the host if needed) in the background."""
        if self._link is not None or self._connecting is not None:
            return
        self._leaving = False
        self._failure = None
        self._taken_over = None
        self._connecting = asyncio.get_running_loop().create_task(self._connect(again=False))

    async def _connect(self, *, again: bool) -> None:
        started = time.monotonic()
        tries = 0
        try:
            while not self._leaving:
                self._set_link("reconnecting" if again else "connecting")
                try:
                    await self._attach_once(takeover=False)
                    return
                except _Busy as busy:
                    if self._leaving:
                        return  # another app has it: nothing of ours to end
                    if self.takeover is not None and await self._ask_takeover(busy.busy):
                        try:
                            await self._attach_once(takeover=True)
                            return
                        except (_Busy, SessionUnavailable) as err:
                            self._fail(str(err))
                            return
                    self._fail(busy_message(busy.busy))
                    return
                except SessionUnavailable as err:
                    if self._leaving:
                        return  # the app is going: no failure to report
                    if not again or time.monotonic() - started > self.give_up_after:
                        self._fail(str(err) if not again else
                                   f"{err}. Gave up reconnecting; the cell may still run there: "
                                   "open the lesson again to re-attach.")
                        return
                    delay = self.backoff[min(tries, len(self.backoff) - 1)]
                    tries += 1
                    self._set_link("reconnecting", f"{err}; the cell goes on there. Trying again in {delay:g} s…")
                    await asyncio.sleep(delay)
        finally:
            self._connecting = None
            self._poke()

    async def _ask_takeover(self, busy: HostBusy) -> bool:
        try:
            return bool(await self.takeover(busy))
        except Exception:
            return False

    def _fail(self, message: str) -> None:
        self._failure = message
        self._finish_pending("crashed", message, state_lost=False)
        self._set_link("lost", message)
        self._worker_gone(WorkerState.CRASHED, message)

    async def _attach_once(self, *, takeover: bool, start: bool = True) -> None:
        self._attaching = True
        try:
            await self._attach(takeover=takeover, start=start)
        finally:
            self._attaching = False

    async def _attach(self, *, takeover: bool, start: bool) -> None:
        opened = await self.transport.open(start=start)
        link = Link(opened.reader, opened.writer, role="app", peer=self.transport.peer)
        try:
            await link.handshake(preamble=self.transport.remote)
            link.send(Channel.SESSION, {
                "t": "attach", "since": self.last_seq, "host": self.host_id, "takeover": takeover,
                "who": self.who, "client": self.client_id,
                "seen": {ref: seen.as_list() for ref, seen in self.seen.items()},
            })
            frame = await asyncio.wait_for(link.receive(), ATTACH_TIMEOUT)
        except (LinkClosed, asyncio.TimeoutError) as err:
            message = str(err) if isinstance(err, LinkClosed) else f"{self.transport.peer} did not answer"
            if link.peer_greeting is None and hasattr(self.transport, "explain_failure"):
                message = await self.transport.explain_failure(opened, message)
            link.close("failed")
            await opened.close()
            raise SessionUnavailable(message) from None
        kind = frame.message["t"]
        if frame.channel is Channel.SESSION and kind == "busy":
            link.close("busy")
            await opened.close()
            since = frame.message.get("since")
            raise _Busy(HostBusy(sanitize(str(frame.message.get("who")))[:120],
                                 float(since) if isinstance(since, (int, float)) else time.time(), self.where))
        if frame.channel is not Channel.SESSION or kind != "attached":
            link.close("unexpected")
            await opened.close()
            raise SessionUnavailable(f"{self.transport.peer} answered the attach with {kind[:40]!r}")
        self._link, self._opened = link, opened
        self._on_attached(frame.message)
        self._receiver = asyncio.get_running_loop().create_task(self._receive(link, opened))

    def _on_attached(self, facts: dict) -> None:
        host_id = facts.get("host") if isinstance(facts.get("host"), str) else None
        again = self.host_id is not None and host_id == self.host_id
        if self.host_id is not None and host_id != self.host_id:
            # A different host: what ran in the old one is gone with its worker.
            self._finish_pending("crashed", f"The session on {self.where or 'this machine'} ended while "
                                            "the link was down: variables lost.", state_lost=True)
            self.last_seq = 0
            self.seen.clear()
        self.host_id = host_id
        self.facts = facts
        pid = facts.get("pid")
        self.host_pid = pid if type(pid) is int else None
        news = facts.get("reason") if isinstance(facts.get("reason"), str) else None
        notes = facts.get("notes") if isinstance(facts.get("notes"), dict) else {}
        running = facts.get("running") if isinstance(facts.get("running"), str) else None
        cells = facts.get("cells") if type(facts.get("cells")) is int else 0
        self._attached.set()
        self._set_link("attached")
        lesson = sanitize(str(facts.get("lesson", "")))[:80]
        self._emit(SessionAttached(lesson, sanitize(str(facts.get("title") or lesson))[:80], self.host_pid or 0,
                                   float(facts.get("started") or 0), cells > 0,
                                   sanitize(running) if running else None, notes,
                                   sanitize(news) if news else None, self.where, again))
        for pending in self._pending.values():  # sent as the link fell? the host runs each once
            self._link.send(Channel.REQUEST, pending.message)

    async def _receive(self, link: Link, opened) -> None:
        reason = "the connection ended"
        try:
            while True:
                frame = await link.receive()
                try:
                    self._on_frame(frame)
                except (BadEvent, ValueError, TypeError, KeyError) as err:
                    link.close(f"{self.transport.peer} sent an unreadable event ({err}); the connection was closed")
        except LinkClosed as err:
            reason = str(err)
        finally:
            await opened.close()
        self._on_link_lost(reason)

    def _on_link_lost(self, reason: str) -> None:
        self._link = self._opened = self._receiver = None
        self._attached.clear()
        if self._leaving:
            self._set_link("detached")
            return
        if self._taken_over is not None:
            message = f"Another tutor took this lesson over ({self._taken_over}); what runs goes on there."
            self._finish_pending("crashed", message, state_lost=False)
            self._set_link("detached", message)
            self._worker_gone(WorkerState.STOPPED, message)
            return
        loop = asyncio.get_running_loop()
        if self.reconnect:
            self._set_link("reconnecting", f"{reason}; the cell goes on there. Reconnecting…")
            self._connecting = loop.create_task(self._connect(again=True))
            return
        # Here: the host may still live (it let go of an app that fell behind): look once.
        self._connecting = loop.create_task(self._look_again(reason))

    async def _look_again(self, reason: str) -> None:
        try:
            await self._attach_once(takeover=False, start=False)
            return
        except (SessionUnavailable, _Busy):
            pass
        finally:
            self._connecting = None
            self._poke()
        self._host_ended(reason)

    def _host_ended(self, reason: str) -> None:
        message = f"The session host ended ({reason}): variables lost."
        self._finish_pending("crashed", message, state_lost=True)
        self.host_id = None
        self.last_seq = 0
        self.seen.clear()
        self._set_link("detached", message)
        self._worker_gone(WorkerState.STOPPED, message)

    # -- frames from the host ------------------------------------------------------------

    def _on_frame(self, frame) -> None:
        message = frame.message
        if frame.channel is Channel.EVENT:
            event = decode_event(message.get("e"), frame.blob)
            seq = message.get("seq")
            if type(seq) is int:
                if seq <= self.last_seq:
                    return  # already seen (a replay overlapping what arrived live)
                self.last_seq = seq
            ref = message.get("ref")
            if ref is None:  # the worker's own news: its state, resources, warm-up
                if isinstance(event, WorkerStateChanged):
                    self._set_worker(event)
                else:
                    self._emit(event)
                return
            if not isinstance(ref, str):
                raise ValueError("a cell event without a request")
            self._seen(ref).take(event)
            self._deliver(ref, message, event)
        elif frame.channel is Channel.SESSION:
            kind = message["t"]
            if kind == "dropped":
                ref, lines, chars = message.get("ref"), message.get("lines"), message.get("chars")
                if not isinstance(ref, str) or type(lines) is not int or type(chars) is not int:
                    raise ValueError("a malformed 'dropped' frame")
                seen = self._seen(ref)
                seen.chars += chars
                seen.lines += lines
                rid = message.get("id") if type(message.get("id")) is int else 0
                self._deliver(ref, message, OutputStreamed(rid, "stderr", dropped_line(lines)))
            elif kind == "caught_up":
                lines = message.get("lines")
                seq = message.get("seq")
                if type(seq) is int:
                    self.last_seq = max(self.last_seq, seq)
                if type(lines) is int and lines > 0:
                    self._emit(OutputDropped(lines))
            elif kind == "taken_over":
                self._taken_over = sanitize(str(message.get("who")))[:120]

    def _seen(self, ref: str) -> Seen:
        seen = self.seen.get(ref)
        if seen is None:
            seen = self.seen[ref] = Seen()
            while len(self.seen) > SEEN_KEPT:
                self.seen.popitem(last=False)
        return seen

    def _deliver(self, ref: str, message: dict, event) -> None:
        pending = self._pending.get(ref)
        if pending is not None:
            pending.queue.put_nowait(event)
            return
        label = message.get("label") if isinstance(message.get("label"), str) else ""
        tag = message.get("tag") if isinstance(message.get("tag"), dict) else {}
        self._emit(CellReplayed(ref, sanitize(label), tag, event))

    def _finish_pending(self, status: str, reason: str, *, state_lost: bool) -> None:
        for pending in self._pending.values():
            if not pending.finished:
                pending.queue.put_nowait(CellFinished(0, status, 0.0, reason, state_lost, ()))

    async def wait_attached(self) -> str | None:
        """Attach (if not yet) and wait: None once attached, else why it failed."""
        if self._link is None and self._connecting is None and self._failure is None:
            await self.start()
        while self._link is None and self._connecting is not None:
            await self._changed.wait()
        return None if self._link is not None else (self._failure or "the session is not reachable")

    # -- the SandboxClient API -----------------------------------------------------------

    async def _usable(self) -> bool:
        """Wait until attached (attaching if needed); False when that failed."""
        if self._link is None and self._connecting is None and self._failure is None:
            await self.start()
        while self._link is None:
            if self._connecting is None:
                return False
            await self._changed.wait()
        return True

    def submit(self, code: str, *, label: str = "<cell>", timeout: float | None = None,
               diagnose: bool = False, tag: dict | None = None) -> AsyncIterator | None:
        """Send ``code`` to the host now, if attached: its events, as ``execute`` yields
        them (the host runs requests in turn). None when not attached, and nothing is
        sent: ``execute`` waits for the link."""
        if self._link is None:
            return None
        pending = self._pending_execute(code, label, timeout, diagnose, tag)
        self._send(pending.message)
        return self._events(pending)

    async def execute(self, code: str, *, label: str = "<cell>", timeout: float | None = None,
                      diagnose: bool = False, tag: dict | None = None) -> AsyncIterator:
        """Run ``code`` in the session's worker; yields events, always ending with
        ``CellFinished``. ``diagnose``: as SandboxClient's. ``tag``: what a later app
        gets with this cell's events (default: the context's ``REQUEST_TAG``)."""
        if not await self._usable():
            yield CellFinished(0, "crashed", 0.0, self._failure or self.reason or "The session is not reachable.",
                               False, ())
            return
        pending = self._pending_execute(code, label, timeout, diagnose, tag)
        self._send(pending.message)
        async with aclosing(self._events(pending)) as events:
            async for event in events:  # closed with this generator: a caller gone stops the cell
                yield event

    def _pending_execute(self, code: str, label: str, timeout: float | None, diagnose: bool,
                         tag: dict | None) -> _Pending:
        self._next_ref += 1
        ref = f"{self.client_id}-{self._next_ref}"
        tag = tag if tag is not None else REQUEST_TAG.get()
        pending = _Pending(ref, {"t": "execute", "ref": ref, "code": code, "label": label, "timeout": timeout,
                                 "diagnose": bool(diagnose), "tag": dict(tag or {})})
        self._pending[ref] = pending
        return pending

    async def _events(self, pending: _Pending) -> AsyncIterator:
        """A sent request's events, up to its ``CellFinished``; a caller that stops
        listening stops the cell too."""
        try:
            while True:
                event = await pending.queue.get()
                if isinstance(event, CellFinished):
                    pending.finished = True
                yield event
                if pending.finished:
                    return
        finally:
            self._forget(pending)

    def _forget(self, pending: _Pending) -> None:
        """Nobody waits for ``pending`` any more: a cell not finished is cancelled."""
        self._pending.pop(pending.ref, None)
        if not pending.finished and not self._leaving:
            self._send({"t": "cancel", "ref": pending.ref})  # the caller stopped listening: stop the cell too

    def _send(self, message: dict) -> None:
        if self._link is not None:
            self._link.send(Channel.REQUEST, message)

    async def interrupt(self) -> None:
        self._send({"t": "interrupt"})

    async def restart(self) -> None:
        """A fresh worker in the same session (variables lost)."""
        if self._failure is not None or (self._link is None and self._connecting is None):
            self._failure = None
            await self.start()
        if await self._usable():
            self._send({"t": "restart"})

    async def leave_notes(self, notes: dict) -> None:
        """What the next app to attach should know (small, no secrets)."""
        self._send({"t": "notes", "notes": notes})

    async def detach(self) -> None:
        """Leave the session running (and what runs in it); this client is done."""
        self._leaving = True
        link = self._link
        if link is not None:
            link.send(Channel.REQUEST, {"t": "detach"})
            await self._close_link(link, "detached", wait_for_peer=True)
        await self._stop_connecting()
        self._set_link("detached")

    async def shutdown(self) -> None:
        """End the session: its worker, everything it started, and the host."""
        self._leaving = True
        await self._let_attach_finish()
        link = self._link
        if link is not None:
            link.send(Channel.REQUEST, {"t": "shutdown"})
            await self._close_link(link, "shut down", wait_for_peer=True)
        await self._stop_connecting()
        self._finish_pending("killed", "The session was shut down: variables lost.", state_lost=True)
        if self.state is not WorkerState.STOPPED:
            self._worker_gone(WorkerState.STOPPED, "The session was shut down: variables lost.")
        await self._wait_host_gone()

    async def _close_link(self, link: Link, reason: str, *, wait_for_peer: bool = False) -> None:
        try:
            await asyncio.wait_for(link.drain(), 5.0)
        except (LinkClosed, asyncio.TimeoutError):
            pass
        receiver = self._receiver
        if wait_for_peer and receiver is not None:
            try:  # the host says goodbye once its worker is down
                await asyncio.wait_for(asyncio.shield(receiver), 10.0)
            except asyncio.TimeoutError:
                pass
        link.close(reason)
        if receiver is not None:
            try:
                await asyncio.wait_for(asyncio.shield(receiver), 5.0)
            except asyncio.TimeoutError:
                receiver.cancel()

    async def _let_attach_finish(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """An attach under way may have started the host: let it finish (bounded), so
        that the host hears the shutdown rather than wait for its idle timer. A wait
        between tries, or a question to the learner, is not waited for."""
        task = self._connecting
        if task is not None and self._attaching:
            await asyncio.wait({task}, timeout=timeout)

    async def _stop_connecting(self) -> None:
        task = self._connecting
        if task is not None:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    async def _wait_host_gone(self, timeout: float = 10.0) -> None:
        """Locally: until the host has let go of the session (its lock)."""
        paths = getattr(self.transport, "paths", None)
        if paths is None:
            return
        from tutor.sessions.places import host_alive

        deadline = time.monotonic() + timeout
        while host_alive(paths()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


def busy_message(busy: HostBusy) -> str:
    since = time.strftime("%H:%M", time.localtime(busy.since))
    where = f" on {busy.where}" if busy.where else ""
    return f"This lesson is open in another tutor{where} ({busy.who}, since {since})."


def dropped_line(lines: int) -> str:
    return f"\n… {lines:,} lines were dropped while you were away …\n"
