"""Sandbox fixtures: clients that are always shut down and must leave nothing behind."""

from __future__ import annotations

import pytest
from sandbox_helpers import assert_gone, family

from tutor.sandbox import proctree
from tutor.sandbox.client import SandboxClient


@pytest.fixture
async def make_client(tmp_path):
    """make_client(**kwargs) -> a started SandboxClient (prewarm off unless asked);
    all are shut down after the test and must leave no process behind."""
    clients: list[SandboxClient] = []
    seen: set[int] = set()

    async def make(**kwargs) -> SandboxClient:
        kwargs.setdefault("workdir", tmp_path / f"ws{len(clients)}")
        kwargs.setdefault("prewarm", False)
        kwargs.setdefault("interrupt_grace", 1.0)
        client = SandboxClient(**kwargs)
        clients.append(client)
        await client.start()
        return client

    make.seen = seen
    yield make
    for client in clients:
        if client.supervisor_pid and proctree.alive(client.supervisor_pid):
            seen |= family(client)
        await client.shutdown()
    assert_gone(seen)
