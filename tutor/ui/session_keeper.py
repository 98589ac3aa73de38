"""What the app does with workers that can outlive it (tutor.sessions): which client a
lesson gets, what to say when a session reports news, and what happens to each worker
when the app closes or leaves a lesson.

Sessions on (the default, docs/sessions.md): each lesson's worker lives in a session
host. Leaving while a cell runs keeps it running (asked first when the learner quits;
without asking when the app dies, or when another lesson is opened); leaving with
nothing running ends the session, so nothing stays behind. Sessions off
(``--no-sessions``, ``TUTOR_SESSIONS=off``): the worker is the app's child, as before.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from tutor.sandbox.events import WorkerState
from tutor.sessions.events import HostBusy, LinkChanged, OutputDropped, SessionAttached

ENV_SESSIONS = "TUTOR_SESSIONS"


def sessions_setting(override: bool | None = None) -> bool:
    """``--no-sessions`` (False), else TUTOR_SESSIONS (off/0/no: False), else on."""
    if override is not None:
        return override
    return os.environ.get(ENV_SESSIONS, "on").strip().lower() not in ("off", "0", "no", "false")


@dataclass(frozen=True)
class SessionSettings:
    enabled: bool = True
    remote: str | None = None  # [user@]host: the workers run there, through ssh
    ssh_command: str | None = None
    remote_python: str | None = None
    device: str = "auto"
    memory_limit: int | None = None
    prewarm: bool = True
    idle_timeout: float | None = None  # seconds an idle host waits for an app (None: TUTOR_SESSION_IDLE)


def client_factory(settings: SessionSettings, catalog, ask_takeover=None):
    """(lesson_id, on_event) -> a client with the SandboxClient API: a session's, or
    (sessions off) a SandboxClient of the app's own."""

    def make(lesson_id: str, on_event):  # noqa: D401 - the factory itself
        from tutor import config

        if not settings.enabled and not settings.remote:
            from tutor.sandbox.client import SandboxClient

            workdir = config.workspace_dir(lesson_id)
            workdir.mkdir(parents=True, exist_ok=True)
            return SandboxClient(workdir=workdir, device=settings.device, memory_limit=settings.memory_limit,
                                 prewarm=settings.prewarm, on_event=on_event)
        from tutor.sessions.connect import host_options, session_client

        lesson = catalog.by_id(lesson_id)
        options = host_options(lesson or _Named(lesson_id), device=settings.device,
                               memory_limit=settings.memory_limit, prewarm=settings.prewarm,
                               idle_timeout=settings.idle_timeout)
        return session_client(options, remote=settings.remote, ssh_command=settings.ssh_command,
                              remote_python=settings.remote_python, on_event=on_event, takeover=ask_takeover)

    make.sessions = settings.enabled or bool(settings.remote)
    make.settings = settings
    return make


@dataclass(frozen=True)
class _Named:
    id: str
    number: str | None = None


def outlives_app(session) -> bool:
    """Whether the session's worker can go on without the app."""
    return hasattr(session.client, "detach")


def is_running(session) -> bool:
    """Whether the session's worker is running a cell (or interrupting one)."""
    return session.state in (WorkerState.RUNNING, WorkerState.INTERRUPTING)


def running_labels(sessions, name_of=lambda lesson_id: f"lesson {lesson_id}") -> list[str]:
    """What runs, for the question on leaving: ``cell 7 of 03 Computer vision``
    (``name_of`` names a lesson by its id)."""
    return [f"{s.running_label or 'a cell'} of {name_of(s.lesson_id)}" for s in sessions
            if is_running(s) and outlives_app(s)]


async def leave(session, *, keep_running: bool) -> bool:
    """End the session, or (``keep_running`` and a cell runs) detach from it so the cell
    goes on. True when it was kept."""
    try:
        if keep_running and is_running(session) and outlives_app(session):
            await session.client.detach()
            return True
        await session.client.shutdown()
    except Exception:  # leaving anyway; a stuck worker is ended by its nanny or host
        pass
    return False


async def ask_takeover(app, busy: HostBusy) -> bool:
    """Another tutor has this lesson: ask whether to take it over (as tmux attach -d)."""
    from tutor.sessions.client import busy_message
    from tutor.ui.screens.confirm import ConfirmScreen

    answer: asyncio.Future = asyncio.get_running_loop().create_future()
    question = f"{busy_message(busy)} Take it over here? The other tutor stops showing it."
    app.push_screen(ConfirmScreen(question, yes="Take over", no="Leave it"),
                    lambda yes: answer.done() or answer.set_result(bool(yes)))
    return await answer


def news(event) -> tuple[str, str] | None:
    """(message, severity) to tell the learner about a session event, or None."""
    if isinstance(event, SessionAttached):
        if event.reconnected:
            return f"Reconnected to {event.where or 'the session'}: what it sent meanwhile is shown.", "information"
        if event.news:
            return f"While you were away: {event.news}", "warning"
        if event.resumed and event.running:
            where = f" on {event.where}" if event.where else ""
            # ``running`` names the step the cell is in (its title), not the cell itself
            return (f"Back in lesson {event.title}{where}: your cell in “{event.running}” is still running.",
                    "information")
        if event.resumed:
            return "Back where you left: the output below is what ran while you were away.", "information"
    elif isinstance(event, OutputDropped):
        return f"{event.lines:,} lines of output were dropped while you were away (the rest is shown).", "warning"
    elif isinstance(event, LinkChanged):
        if event.state == "lost" and event.reason:
            return event.reason, "error"
        if event.state == "detached" and event.reason:
            return event.reason, "warning"
    return None
