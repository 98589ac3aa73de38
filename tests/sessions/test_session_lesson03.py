"""The "done when" of sessions, with the real lesson 03 and torch: start its first
training (the baseline model, a few seconds an epoch on a CPU), lose the app (here) or
the SSH link (through a real sshd on 127.0.0.1), come back, and find the same output,
the whole curve and a trained model."""

from __future__ import annotations

import sys

import pytest
from session_helpers import REPO

from tutor import config
from tutor.lessons import load_catalog
from tutor.runner import run_lesson
from tutor.sandbox.events import CellFinished, MetricsLogged, OutputStreamed
from tutor.sessions.client import REQUEST_TAG, SessionClient
from tutor.sessions.connect import host_options
from tutor.sessions.events import CellReplayed
from tutor.sessions.transport import LocalTransport, SshTransport

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

TRAINING = "train-0"  # the baseline model: its cells before it are quick


def lesson_03():
    return load_catalog(config.builtin_lessons_dir()).find("03")


async def prepare(client, lesson) -> str:
    """Everything lesson 03 runs before its training; the training's code."""
    await client.start()
    before = await run_lesson(lesson, mode="solutions", client=client, stop_before=TRAINING, timeout=600)
    assert before.ok, [r.message for r in before.failures]
    return next(b for b in lesson.blocks() if getattr(b, "id", None) == TRAINING).code


def epochs_in(text: str) -> list[str]:
    return [line.split(":")[0] for line in text.splitlines() if line.startswith("epoch ")]


async def test_closing_the_app_mid_training_then_coming_back(options):
    lesson = lesson_03()
    opts = host_options(lesson, device="cpu", idle_timeout=600)
    first = SessionClient(LocalTransport(opts))
    code = await prepare(first, lesson)
    REQUEST_TAG.set({"lesson": lesson.id, "cell": TRAINING, "phase": "code"})
    training = first.execute(code, label="cell 16")
    seen = ""
    async for event in training:
        if isinstance(event, OutputStreamed):
            seen += event.text
            if "epoch 1:" in seen:
                break
    await first.detach()  # the app closes, "keep running"
    await training.aclose()

    replayed: list = []
    second = SessionClient(LocalTransport(opts), on_event=lambda e: isinstance(e, CellReplayed) and replayed.append(e))
    try:
        check = [event async for event in second.execute("print(results_0['test_acc'] > 0.5, type(model_0).__name__)")]
        events = [r.event for r in replayed if r.tag.get("cell") == TRAINING]
        text = "".join(e.text for e in events if isinstance(e, OutputStreamed))
        assert text.startswith(seen)  # the same output, then what came while away
        assert epochs_in(text) == ["epoch 1", "epoch 2", "epoch 3"]
        assert "baseline:" in text and "test accuracy" in text
        assert sum(len(e.points) for e in events if isinstance(e, MetricsLogged)) == 3  # the whole curve
        assert [e.status for e in events if isinstance(e, CellFinished)] == ["ok"]
        assert "".join(e.text for e in check if isinstance(e, OutputStreamed)) == "True Sequential\n"
    finally:
        await second.shutdown()


async def test_losing_the_ssh_link_mid_training_then_reconnecting(sshd, far_home):
    lesson = lesson_03()
    transport = SshTransport(sshd.alias, host_options(lesson, device="cpu", idle_timeout=600),
                             ssh_command=sshd.ssh_command,
                             remote_python=f"env TUTOR_HOME={far_home} TUTOR_OFFLINE=1 PYTHONPATH={REPO} "
                                           f"{sys.executable}")
    client = SessionClient(transport, backoff=(0.5, 1.0, 2.0))
    try:
        code = await prepare(client, lesson)
        text, points, ends = "", 0, []
        killed = False
        async for event in client.execute(code, label="cell 16"):
            if isinstance(event, OutputStreamed):
                text += event.text
                if "epoch 1:" in text and not killed:
                    client._opened.process.kill()  # the SSH link dies mid-training
                    killed = True
            elif isinstance(event, MetricsLogged):
                points += len(event.points)
            elif isinstance(event, CellFinished):
                ends.append(event.status)
        assert killed and ends == ["ok"]
        assert epochs_in(text) == ["epoch 1", "epoch 2", "epoch 3"] and points == 3
        check = [event async for event in client.execute("print(results_0['test_acc'] > 0.5)")]
        assert "".join(e.text for e in check if isinstance(e, OutputStreamed)) == "True\n"
        assert (far_home / "workspace" / lesson.id).is_dir()  # the workspace lives over there
    finally:
        await client.shutdown()
