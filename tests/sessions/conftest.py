"""Session fixtures: clients of local hosts (the real worker, torch not imported), and
a check after every test that no session host, nanny or worker is left behind."""

from __future__ import annotations

import pytest
from session_helpers import assert_gone, hosts_of_home, session_processes

from tutor.sessions import places
from tutor.sessions.client import SessionClient
from tutor.sessions.control import stop_sessions
from tutor.sessions.host import HostOptions
from tutor.sessions.transport import LocalTransport


def host_options(lesson_id: str = "03", **kwargs) -> HostOptions:
    kwargs.setdefault("prewarm", False)
    kwargs.setdefault("idle_timeout", 120.0)
    kwargs.setdefault("interrupt_grace", 1.0)
    return HostOptions(lesson_id=lesson_id, **kwargs)


@pytest.fixture
def options():
    """options(lesson_id="03", **HostOptions fields) with test-friendly defaults."""
    return host_options


@pytest.fixture
async def make_client():
    """make_client(options=None, **SessionClient kwargs) -> a started client of a
    local host; every session is stopped after the test and must leave nothing."""
    clients: list[SessionClient] = []

    async def make(options: HostOptions | None = None, **kwargs) -> SessionClient:
        client = SessionClient(LocalTransport(options or host_options()), **kwargs)
        clients.append(client)
        await client.start()
        return client

    yield make
    for client in clients:
        if client.link_state == "attached":
            await client.detach()


@pytest.fixture(autouse=True)
def nothing_left_behind(tutor_home):
    yield
    pids = session_processes()
    stop_sessions("all")
    assert_gone(pids)
    assert_gone(hosts_of_home(tutor_home), timeout=2)


@pytest.fixture
def far_home(tmp_path_factory, monkeypatch):
    """The 'remote machine' of the fake ssh: its own TUTOR_HOME (workspaces, sessions).
    Its sessions are stopped after the test and must leave nothing behind."""
    import json

    from session_helpers import REPO

    home = tmp_path_factory.mktemp("far-home")
    monkeypatch.setenv("FAKE_SSH_REMOTE_ENV", json.dumps({"TUTOR_HOME": str(home), "PYTHONPATH": str(REPO)}))
    monkeypatch.setenv("FAKE_SSH_COUNTER", str(home / "ssh-connections"))
    yield home
    from session_helpers import host_family, runtime_dir_of

    folder = runtime_dir_of(home)
    pids = set()

    for session in places.list_sessions(folder):
        pids |= host_family(session.pid)
    stop_sessions("all", folder)
    assert_gone(pids)
    assert_gone(hosts_of_home(home), timeout=2)


@pytest.fixture
async def make_remote(far_home):
    """make_remote(options=None, **SessionClient kwargs) -> a started client of a host
    on the 'remote machine', through the fake ssh."""
    import sys

    from session_helpers import FAKE_SSH

    from tutor.sessions.transport import SshTransport

    clients: list[SessionClient] = []

    async def make(options: HostOptions | None = None, destination: str = "gpu-box", remote_python: str | None = None,
                   **kwargs) -> SessionClient:
        transport = SshTransport(destination, options or host_options(), ssh_command=" ".join(FAKE_SSH),
                                 remote_python=remote_python or sys.executable)
        kwargs.setdefault("backoff", (0.2, 0.5, 1.0))
        client = SessionClient(transport, **kwargs)
        clients.append(client)
        await client.start()
        return client

    yield make
    for client in clients:
        if client.link_state in ("attached", "reconnecting", "connecting"):
            await client.detach()


@pytest.fixture
def sshd(tmp_path_factory, far_home):
    """A real sshd on 127.0.0.1 (skipped, with the reason, where it cannot run)."""
    import sshd_harness as harness

    why = harness.missing()
    if why:
        pytest.skip(why)
    server = harness.start(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()
