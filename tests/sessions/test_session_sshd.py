"""End to end through a real OpenSSH server on 127.0.0.1 (tests/sessions/sshd_harness.py):
connect, run a cell, kill the ssh client mid-training, reconnect, and see the missed
output and the finished result."""

from __future__ import annotations

import sys

from session_helpers import REPO, run, until

from tutor.sandbox.events import CellStarted, OutputStreamed
from tutor.sessions.client import SessionClient
from tutor.sessions.events import LinkChanged
from tutor.sessions.transport import SshTransport

TRAINING = ("import time\nfor epoch in range(40):\n    print('epoch', epoch, flush=True)\n"
            "    time.sleep(0.05)\nmodel = 'trained'\nprint('done')")


def remote_python(far_home) -> str:
    """sshd starts commands with a clean environment: the far side's settings go here."""
    return f"env TUTOR_HOME={far_home} PYTHONPATH={REPO} {sys.executable}"


async def test_killed_ssh_mid_training_reconnects_to_the_missed_output(sshd, far_home, options):
    links: list[LinkChanged] = []
    transport = SshTransport(sshd.alias, options(), ssh_command=sshd.ssh_command,
                             remote_python=remote_python(far_home))
    client = SessionClient(transport, on_event=lambda e: isinstance(e, LinkChanged) and links.append(e),
                           backoff=(0.2, 0.5, 1.0))
    await client.start()
    try:
        warm = await run(client, "print('hello over ssh')")
        assert warm.text == "hello over ssh\n"
        cell = client.execute(TRAINING, label="train", tag={"cell": "train"})
        seen = []
        async for event in cell:
            if isinstance(event, OutputStreamed):
                seen.append(event.text)
                if "epoch 5" in event.text:
                    break
        client._opened.process.kill()  # the ssh client dies mid-training
        rest = [event async for event in cell]
        text = "".join(seen) + "".join(e.text for e in rest if isinstance(e, OutputStreamed))
        assert text == "".join(f"epoch {i}\n" for i in range(40)) + "done\n"
        assert rest[-1].status == "ok"
        assert [e.state for e in links].count("reconnecting") >= 1 and links[-1].state == "attached"
        after = await run(client, "print(model)")
        assert after.text == "trained\n"
    finally:
        await client.shutdown()


async def test_an_unknown_host_key_fails_plainly(sshd, far_home, options, tmp_path):
    config = tmp_path / "strict_config"
    config.write_text(sshd.client_config.read_text().replace("StrictHostKeyChecking accept-new",
                                                              "StrictHostKeyChecking yes"))
    transport = SshTransport(sshd.alias, options(), ssh_command=f"ssh -F {config}",
                             remote_python=remote_python(far_home))
    client = SessionClient(transport)
    cell = await run(client, "print(1)")
    assert cell.status == "crashed"
    assert "Run 'ssh tutor-test' once by hand" in cell.finished.reason
