"""Sessions that outlive the app, on this machine: the real host and worker (torch not
imported). Every test ends with no host, nanny or worker left (conftest)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from session_helpers import REPO, assert_gone, child_environment, host_family, hosts_of_home, run, until

from tutor.sandbox.events import CellFinished, CellStarted, OutputStreamed, WorkerState
from tutor.sessions import places
from tutor.sessions.client import SessionClient
from tutor.sessions.control import stop_sessions
from tutor.sessions.events import CellReplayed, LinkChanged, OutputDropped, SessionAttached
from tutor.sessions.transport import LocalTransport


class Log:
    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def of(self, kind) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def replayed(self, tag_cell: str | None = None) -> list:
        return [e.event for e in self.of(CellReplayed) if tag_cell is None or e.tag.get("cell") == tag_cell]

    def replayed_text(self, tag_cell: str) -> str:
        return "".join(e.text for e in self.replayed(tag_cell) if isinstance(e, OutputStreamed))


def session(lesson_id: str = "03") -> places.SessionInfo:
    found = [s for s in places.list_sessions() if s.lesson_id == lesson_id]
    assert found, "no session"
    return found[0]


async def test_variables_and_output_outlive_the_app(make_client):
    first = await make_client()
    cell = await run(first, "x = 41\nprint('hello from the worker')", label="cell 1", tag={"cell": "c1"})
    assert cell.status == "ok" and cell.text == "hello from the worker\n"
    assert session().state == "idle" and session().attached
    await first.detach()
    assert not session().attached

    log = Log()
    second = await make_client(on_event=log)
    again = await run(second, "print(x + 1)", label="cell 2")
    assert again.text == "42\n"
    attached = log.of(SessionAttached)[0]
    assert attached.resumed and attached.lesson_id == "03"
    assert log.replayed_text("c1") == "hello from the worker\n"
    assert isinstance(log.replayed("c1")[-1], CellFinished)


APP = r"""
import asyncio, sys
from tutor.sessions.client import SessionClient
from tutor.sessions.host import HostOptions
from tutor.sessions.transport import LocalTransport

async def main():
    client = SessionClient(LocalTransport(HostOptions(lesson_id="03", prewarm=False, idle_timeout=120)))
    await client.start()
    code = "import time\nfor i in range(40):\n    print('epoch', i, flush=True)\n    time.sleep(0.05)\nmodel = 'trained'"
    async for event in client.execute(code, label="cell 7", tag={"cell": "train", "title": "training"}):
        if getattr(event, "text", "").startswith("epoch 3"):
            print("running", flush=True)
    print("finished", flush=True)

asyncio.run(main())
"""


async def test_app_killed_mid_cell_comes_back_to_complete_output(make_client):
    app = subprocess.Popen([sys.executable, "-c", APP], stdout=subprocess.PIPE, text=True, env=child_environment())
    try:
        assert app.stdout.readline().strip() == "running"
        app.send_signal(signal.SIGKILL)
        app.wait()
    finally:
        app.kill()
    await until(lambda: session().running == "training", timeout=5, what="the listing to show the cell")
    await until(lambda: session().state == "idle" and not session().attached, what="the cell to end")

    log = Log()
    client = await make_client(on_event=log)
    cell = await run(client, "print(model)", label="check")
    assert cell.text == "trained\n"
    assert log.replayed_text("train") == "".join(f"epoch {i}\n" for i in range(40))
    ends = [e for e in log.replayed("train") if isinstance(e, CellFinished)]
    assert [e.status for e in ends] == ["ok"]


async def test_a_full_ring_gives_an_honest_gap_then_the_tail(make_client, options):
    opts = options(ring_bytes=64 * 1024)
    first = await make_client(opts)
    await until(lambda: first.state is WorkerState.READY, what="ready")
    # 900 kB: under the worker's own cap, over what the host keeps of a cell (head + tail)
    loud = first.execute("for i in range(9000):\n    print('line', i, 'x' * 90)", label="loud", tag={"cell": "loud"})
    assert isinstance(await loud.__anext__(), CellStarted)
    await first.detach()
    await loud.aclose()
    await until(lambda: session().state == "idle", what="the loud cell to end")

    log = Log()
    await make_client(opts, on_event=log)
    await until(lambda: any(isinstance(e, CellFinished) for e in log.replayed("loud")), what="the catch-up")
    text = log.replayed_text("loud")
    shown = [line for line in text.splitlines() if line.startswith("line ")]
    gap = [line for line in text.splitlines() if "dropped while you were away" in line]
    assert len(gap) == 1
    dropped = int(gap[0].split()[1].replace(",", ""))
    assert dropped + len(shown) == 9000  # every line is either shown or counted
    assert shown[0].startswith("line 0 ") and shown[-1].startswith("line 8999 ")  # the head and the tail
    assert dropped > 1000
    assert [e.lines for e in log.of(OutputDropped)] == [dropped]


async def test_a_second_app_asks_before_taking_over(make_client):
    first_log = Log()
    first = await make_client(on_event=first_log)
    await run(first, "y = 1", label="a")
    asked = []

    async def refuse(busy):
        asked.append(busy)
        return False

    second = await make_client(takeover=refuse)
    refused = await run(second, "print(y)", label="b")
    assert refused.status == "crashed" and "open in another tutor" in refused.finished.reason
    assert asked and str(os.getpid()) in asked[0].who
    assert first.link_state == "attached"

    third = await make_client(takeover=lambda busy: _yes())
    taken = await run(third, "print(y)", label="c")
    assert taken.text == "1\n"
    await until(lambda: first.link_state == "detached", what="the first app to be detached")
    detached = [e for e in first_log.of(LinkChanged) if e.state == "detached"]
    assert "took this lesson over" in detached[-1].reason
    assert first.state is WorkerState.STOPPED


async def _yes() -> bool:
    return True


async def test_an_idle_host_ends_itself_and_leaves_nothing(make_client, options):
    client = await make_client(options(idle_timeout=1.0))
    await run(client, "print(1)")
    pids = host_family(session().pid)
    assert len(pids) >= 3  # host, nanny, worker
    await client.detach()
    started = time.monotonic()
    assert_gone(pids, timeout=10)
    assert time.monotonic() - started >= 0.9
    assert places.list_sessions() == []


async def test_the_idle_timer_waits_for_the_running_cell(make_client, options):
    client = await make_client(options(idle_timeout=0.5))
    cell = client.execute("import time; time.sleep(2.5); print('done')", label="slow")
    assert isinstance(await cell.__anext__(), CellStarted)
    await client.detach()
    await cell.aclose()
    pid = session().pid
    await asyncio.sleep(1.5)
    assert host_family(pid), "the host ended while its cell still ran"
    assert_gone(host_family(pid), timeout=10)


async def test_a_worker_that_died_while_away_is_reported_and_not_restarted(make_client):
    first = await make_client()
    await run(first, "z = 5")
    cell = first.execute("import os, time\ntime.sleep(0.5)\nos._exit(3)", label="cell 4", tag={"cell": "c4"})
    assert isinstance(await cell.__anext__(), CellStarted)
    await first.detach()
    await cell.aclose()
    await until(lambda: session().state == "crashed", what="the crash to be noted")
    host = session()
    assert "code 3" in host.reason
    await until(lambda: host_family(host.pid) == {host.pid}, what="no worker while nobody is attached")

    log = Log()
    second = await make_client(on_event=log)
    await until(lambda: [e for e in log.replayed("c4") if isinstance(e, CellFinished)], what="the replay")
    assert "code 3" in log.of(SessionAttached)[0].news
    ends = [e for e in log.replayed("c4") if isinstance(e, CellFinished)]
    assert ends[0].status == "crashed" and ends[0].state_lost
    fresh = await run(second, "print('z' in globals())")
    assert fresh.text == "False\n"


async def test_sessions_stop_ends_host_and_worker_and_tells_the_app(make_client):
    log = Log()
    client = await make_client(on_event=log)
    cell = client.execute("import time; time.sleep(30)", label="long")
    assert isinstance(await cell.__anext__(), CellStarted)
    pids = host_family(session().pid)
    stopped, problems = stop_sessions("03")
    assert stopped == ["03"] and problems == []
    assert_gone(pids)
    rest = [event async for event in cell]
    assert rest[-1].status == "killed" and rest[-1].state_lost
    assert "The session ended (stopped by tutor sessions --stop)" in rest[-1].reason
    assert places.list_sessions() == []


async def test_shutdown_ends_the_session(make_client):
    client = await make_client()
    await run(client, "print(1)")
    pids = host_family(session().pid)
    await client.shutdown()
    assert_gone(pids)
    assert places.list_sessions() == []


@pytest.mark.parametrize("held", [False, True])
async def test_shutdown_while_still_attaching_ends_the_host_it_started(tutor_home, options, held):
    # The learner quits while the app is still attaching (here: the host started, its
    # socket open, the handshake held back): the session must end all the same, not
    # wait for its idle timer with nobody attached.
    transport = LocalTransport(options())
    opened_once = asyncio.Event()
    go_on = asyncio.Event()
    real_open = transport.open

    async def open_and_wait(**kwargs):
        opened = await real_open(**kwargs)
        opened_once.set()
        if held:
            await go_on.wait()
        return opened

    transport.open = open_and_wait
    client = SessionClient(transport)
    await client.start()
    await asyncio.wait_for(opened_once.wait(), 20)
    assert hosts_of_home(tutor_home) and client.link_state != "attached"
    quitting = asyncio.create_task(client.shutdown())
    await asyncio.sleep(0.2)
    go_on.set()
    await asyncio.wait_for(quitting, 30)
    assert places.list_sessions() == []
    assert_gone(hosts_of_home(tutor_home), timeout=2)


async def test_interrupt_and_abandon_travel_to_the_host(make_client):
    client = await make_client()
    cell = client.execute("import time\nprint('sleeping', flush=True)\ntime.sleep(30)", label="sleepy")
    async for event in cell:
        if isinstance(event, OutputStreamed):
            await client.interrupt()
        if isinstance(event, CellFinished):
            assert event.status == "interrupted" and not event.state_lost
    abandoned = client.execute("import time; time.sleep(30)", label="abandoned")
    assert isinstance(await abandoned.__anext__(), CellStarted)
    await abandoned.aclose()  # nobody listens any more: the host stops it
    after = await run(client, "print('free again')")
    assert after.text == "free again\n"


def test_the_runtime_folder_and_socket_are_private(tutor_home):
    folder = places.ensure_runtime_dir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    paths = places.SessionPaths.of("03", folder)
    server = places.listen(paths)
    try:
        assert stat.S_IMODE(paths.socket.stat().st_mode) == 0o600
    finally:
        server.close()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
async def test_another_user_cannot_attach(make_client):
    client = await make_client()
    await until(lambda: client.link_state == "attached", what="attach")
    socket_path = str(session().paths.socket)
    probe = ("import socket, os\nos.setgid(65534); os.setuid(65534)\ns = socket.socket(socket.AF_UNIX)\n"
             f"try:\n    s.connect({socket_path!r}); print('connected')\nexcept OSError as e:\n    print(type(e).__name__)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "PermissionError", out.stderr


async def test_a_peer_of_another_uid_is_refused_by_the_host(monkeypatch, tutor_home, options):
    """SO_PEERCRED: even through the folder's permissions, another uid gets nothing."""
    from tutor.sessions.host import SessionHost

    monkeypatch.setattr(places, "peer_uid", lambda sock: os.getuid() + 1)
    paths = places.SessionPaths.of("03", places.ensure_runtime_dir())
    host = SessionHost(options(), paths)
    server = places.listen(paths)
    serving = asyncio.get_running_loop().create_task(host.serve(server))
    try:
        reader, writer = await asyncio.open_unix_connection(str(paths.socket))
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed without a word
        writer.close()
    finally:
        host.end()
        await serving


def test_session_file_holds_no_secret_and_listing_cleans_leftovers(tutor_home):
    folder = places.ensure_runtime_dir()
    paths = places.SessionPaths.of("03", folder)
    places.write_info(paths, {"lesson": "03", "pid": 999999, "started": time.time()})
    assert stat.S_IMODE(paths.info.stat().st_mode) == 0o600
    paths.socket.write_text("")  # a dead host's socket: nobody holds the lock
    assert places.list_sessions() == []
    assert not paths.info.exists() and not paths.socket.exists()


def test_runtime_folder_moves_when_socket_paths_would_be_too_long(monkeypatch, tmp_path):
    monkeypatch.setenv("TUTOR_HOME", str(tmp_path / ("x" * 120)))
    folder = places.runtime_dir()
    assert len(str(folder / "a-lesson-id-of-forty-characters-long-xx.sock")) < 108
    assert folder.parent == Path(tempfile.gettempdir()) and str(os.getuid()) in folder.name
    monkeypatch.setenv("TUTOR_RUNTIME_DIR", "/tmp/rt")
    assert places.runtime_dir() == Path("/tmp/rt")


def test_session_names_are_safe_file_names():
    assert places.session_name("03-training") == "03-training"
    odd = places.session_name("../../etc/passwd")
    assert "/" not in odd and not odd.startswith(".")
    assert places.session_name("a/b") != places.session_name("a_b")


async def test_diagnosis_and_the_context_tag_travel_to_the_host(make_client):
    from tutor.sandbox.events import AdviceGiven
    from tutor.sessions.client import REQUEST_TAG

    client = await make_client()
    code = ("import torch\nmodel = torch.nn.Linear(2, 1)\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
            "for step in range(3):\n    loss = model(torch.ones(1, 2)).sum()\n    loss.backward()\n    opt.step()\n")
    REQUEST_TAG.set({"cell": "loop"})
    cell = await run(client, code, label="loop", diagnose=True)
    advice = [e for e in cell.events if isinstance(e, AdviceGiven)]
    assert cell.status == "ok" and [a.kind for a in advice] == ["zero-grad"]
    await client.detach()

    log = Log()
    later = await make_client(on_event=log)
    await run(later, "pass")
    assert [e.kind for e in log.replayed("loop") if isinstance(e, AdviceGiven)] == ["zero-grad"]


async def test_a_worker_whose_cuda_broke_is_replaced_in_the_host(make_client):
    from tutor.sandbox import reasons
    from tutor.sandbox.events import CellFailed

    client = await make_client()
    fake = REPO / "tests" / "fakes" / "broken_cuda.py"  # CUDA broken for good, without a GPU
    cell = await run(client, "cuda_stays_broken = True\n" + fake.read_text(), label="cell 1")
    [failure] = [e for e in cell.events if isinstance(e, CellFailed)]
    assert failure.ename == "AcceleratorError" and "device-side assert" in failure.advice
    assert cell.finished.state_lost and cell.finished.reason == reasons.GPU_LOST
    after = await run(client, "print('kept' in globals(), 'fresh')", label="cell 2")
    assert after.text == "False fresh\n"  # the host's new worker answers


async def test_submit_sends_at_once_when_attached(make_client, options):
    detached = SessionClient(LocalTransport(options()))
    assert detached.submit("print(1)", label="x") is None  # no link: nothing sent, execute waits for one
    client = await make_client()
    assert await client.wait_attached() is None
    first = client.submit("import time; time.sleep(0.2); print('first')", label="first")
    second = client.submit("print('second')", label="second")  # the host runs them in turn
    firsts = [event async for event in first]
    seconds = [event async for event in second]
    assert "".join(e.text for e in firsts if isinstance(e, OutputStreamed)) == "first\n"
    assert "".join(e.text for e in seconds if isinstance(e, OutputStreamed)) == "second\n"
    assert firsts[-1].status == seconds[-1].status == "ok"
