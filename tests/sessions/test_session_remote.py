"""The worker on another machine, through a fake ssh that runs the far side here (with
its own TUTOR_HOME) and can drop, stall, delay or corrupt the link."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from session_helpers import HERE, run, until

from tutor.sandbox.events import CellFinished, CellStarted, OutputStreamed, WorkerState
from tutor.sessions.events import LinkChanged
from tutor.sessions.link import LINK_VERSION


class Log:
    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def links(self) -> list[LinkChanged]:
        return [e for e in self.events if isinstance(e, LinkChanged)]


async def test_a_cell_runs_on_the_far_side_where_the_workspace_lives(make_remote, far_home, tutor_home):
    client = await make_remote()
    cell = await run(client, "import os\nprint(os.getcwd())\n_ = open('made-here.txt', 'w').write('x')", label="c")
    assert cell.status == "ok"
    workdir = Path(cell.text.strip())
    assert workdir == far_home / "workspace" / "03"
    assert (workdir / "made-here.txt").exists()
    assert not (tutor_home / "workspace").exists()  # nothing on the app's machine
    assert client.info is not None and client.where == "gpu-box"


@pytest.mark.parametrize("mode, words", [
    ("unreachable", "cannot reach gpu-box (ssh: Could not resolve hostname gpu-box"),
    ("auth", "Run 'ssh gpu-box' once by hand"),
])
async def test_ssh_failures_are_one_plain_line(make_remote, monkeypatch, mode, words):
    monkeypatch.setenv("FAKE_SSH_MODE", mode)
    log = Log()
    client = await make_remote(on_event=log)
    cell = await run(client, "print(1)")
    assert cell.status == "crashed" and words in cell.finished.reason
    assert "Traceback" not in cell.finished.reason
    assert client.state is WorkerState.CRASHED and log.links()[-1].state == "lost"


@pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="needs a system Python without tutor")
async def test_tutor_missing_there_says_how_to_install_this_one(make_remote, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    client = await make_remote(remote_python=f"cd {bare} && /usr/bin/python3 -I")
    cell = await run(client, "print(1)")
    assert "tutor is not installed on gpu-box" in cell.finished.reason
    assert "rsync -a --exclude .venv" in cell.finished.reason  # this tutor, from its source folder
    assert "-m pip install ./tutor" in cell.finished.reason and "pytorch-tutor" not in cell.finished.reason


async def test_no_python_there_says_what_to_set(make_remote):
    client = await make_remote(remote_python="python9.99")
    cell = await run(client, "print(1)")
    assert "python9.99 was not found on gpu-box" in cell.finished.reason
    assert "TUTOR_REMOTE_PYTHON" in cell.finished.reason


@pytest.mark.parametrize("version, advice", [(LINK_VERSION + 1, "upgrade tutor here"),
                                             (0, "install this tutor on gpu-box (from here: rsync")])
async def test_another_protocol_version_says_which_and_what_to_upgrade(make_remote, monkeypatch, version, advice):
    monkeypatch.setenv("OTHER_LINK_VERSION", str(version))
    client = await make_remote(remote_python=f"{sys.executable} {HERE / 'other_version.py'} #")
    cell = await run(client, "print(1)")
    reason = cell.finished.reason
    assert f"link protocol {version}" in reason and f"link protocol {LINK_VERSION}" in reason
    assert advice in reason and "9.9.9" in reason


async def test_login_noise_before_the_stream_is_skipped(make_remote, monkeypatch):
    monkeypatch.setenv("FAKE_SSH_MODE", "banner")
    client = await make_remote()
    assert (await run(client, "print(6 * 7)")).text == "42\n"


TRAINING = ("import time\nfor epoch in range(30):\n    print('epoch', epoch, flush=True)\n"
            "    time.sleep(0.1)\nmodel = 'trained'\nprint('done')")


async def test_a_dropped_link_mid_cell_reconnects_and_replays_what_was_missed(make_remote, monkeypatch):
    monkeypatch.setenv("FAKE_SSH_MODE", "drop=epoch 12")
    monkeypatch.setenv("FAKE_SSH_ONLY", "1")
    log = Log()
    client = await make_remote(on_event=log)
    cell = await run(client, TRAINING, label="train")
    assert cell.status == "ok"
    assert cell.text == "".join(f"epoch {i}\n" for i in range(30)) + "done\n"  # nothing lost, nothing twice
    states = [e.state for e in log.links()]
    assert "reconnecting" in states and states[-1] == "attached"
    lost = next(e for e in log.links() if e.state == "reconnecting")
    assert "the cell goes on there" in lost.reason
    assert (await run(client, "print(model)")).text == "trained\n"


async def test_a_silent_link_is_noticed_within_seconds(make_remote, monkeypatch):
    monkeypatch.setenv("TUTOR_LINK_TIMEOUT", "1.5")
    monkeypatch.setenv("FAKE_SSH_MODE", "stall=epoch 3")
    monkeypatch.setenv("FAKE_SSH_ONLY", "1")
    log = Log()
    client = await make_remote(on_event=log)
    cell = client.execute(TRAINING, label="train")
    loop = asyncio.get_running_loop()
    async for event in cell:
        if isinstance(event, OutputStreamed) and "epoch 3" in event.text:
            break  # the link goes silent here
    started = loop.time()
    await until(lambda: any(e.state == "reconnecting" for e in log.links()), timeout=10, what="the silence")
    assert loop.time() - started < 5.0
    assert "no word from gpu-box" in next(e for e in log.links() if e.state == "reconnecting").reason
    rest = [event async for event in cell]
    text = "".join(e.text for e in rest if isinstance(e, OutputStreamed))
    assert text.endswith("epoch 29\ndone\n") and rest[-1].status == "ok"


async def test_corrupt_bytes_end_the_link_not_the_app(make_remote, monkeypatch):
    monkeypatch.setenv("FAKE_SSH_MODE", "corrupt=3000")
    monkeypatch.setenv("FAKE_SSH_ONLY", "1")
    log = Log()
    client = await make_remote(on_event=log)
    cell = await run(client, "for i in range(200):\n    print('row', i, 'x' * 40)", label="rows")
    assert cell.status == "ok"
    rows = [line for line in cell.text.splitlines() if line.startswith("row ")]
    assert len(rows) == 200 and rows == sorted(set(rows), key=lambda r: int(r.split()[1]))
    reasons = [e.reason or "" for e in log.links() if e.state == "reconnecting"]
    assert any("unreadable" in r for r in reasons), reasons


async def test_a_slow_link_still_delivers_in_order(make_remote, monkeypatch):
    monkeypatch.setenv("FAKE_SSH_MODE", "delay=0.05")
    client = await make_remote()
    cell = await run(client, "for i in range(50):\n    print(i)", label="n")
    assert cell.text == "".join(f"{i}\n" for i in range(50))
