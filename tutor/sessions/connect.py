"""Making a session client for a lesson, here or on a remote machine: what the app and
``tutor run`` share. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Callable

from tutor.sessions.client import SessionClient, TakeoverQuestion
from tutor.sessions.host import HostOptions
from tutor.sessions.transport import LocalTransport, SshTransport


def host_options(lesson, *, device: str = "auto", memory_limit: int | None = None, prewarm: bool = True,
                 perturb: int = 0, session_id: str | None = None, idle_timeout: float | None = None) -> HostOptions:
    """The host for ``lesson`` (a ``tutor.lessons.model.Lesson``): its workspace, named
    in listings by its number (``03``) or id."""
    from tutor.config import session_idle_setting

    return HostOptions(lesson_id=lesson.id, title=getattr(lesson, "number", None) or lesson.id, device=device,
                       memory_limit=memory_limit, prewarm=prewarm, perturb=perturb, session_id=session_id,
                       idle_timeout=idle_timeout if idle_timeout is not None else session_idle_setting())


def session_client(options: HostOptions, *, remote: str | None = None, ssh_command: str | None = None,
                   remote_python: str | None = None, on_event: Callable[[object], None] | None = None,
                   takeover: TakeoverQuestion | None = None) -> SessionClient:
    """A client of ``options``' host: on this machine, or on ``remote`` through ssh."""
    if remote:
        transport = SshTransport(remote, options, ssh_command=ssh_command, remote_python=remote_python)
    else:
        transport = LocalTransport(options)
    return SessionClient(transport, on_event=on_event, takeover=takeover)
