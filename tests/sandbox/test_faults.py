"""The faults of docs/sandbox.md against the real worker (prewarm off: no torch unless a
test says so). Each test asserts the reason shown, that the client survives (a later
cell runs), that state is kept or lost as promised, and that no process is left
behind (the make_client fixture checks the session and process groups at the end;
tests that restart check the old tree at once)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest
from sandbox_helpers import assert_gone, family, run, wait_state

from tutor.sandbox import proctree
from tutor.sandbox.events import ResourcesMeasured, WorkerState

pytestmark = pytest.mark.timeout(90)

NAMESPACES = [pytest.param(None, id="namespace-if-available"), pytest.param(False, id="nanny-only")]


async def interrupt_soon(client, delay: float = 0.3) -> None:
    await wait_state(client, WorkerState.RUNNING)
    await asyncio.sleep(delay)
    await client.interrupt()


async def assert_state(client, kept: bool) -> None:
    cell = await run(client, "print(marker)")
    if kept:
        assert cell.stdout == "kept\n", cell.events
    else:
        assert cell.failure is not None and cell.failure.ename == "NameError"


# -- stopping code ------------------------------------------------------------------------

async def test_infinite_loop_is_interrupted_and_variables_kept(make_client):
    client = await make_client()
    await run(client, "marker = 'kept'")
    task = asyncio.ensure_future(run(client, "n = 0\nwhile True:\n    n += 1", label="loop"))
    await interrupt_soon(client)
    cell = await task
    assert cell.status == "interrupted" and cell.reason == "Interrupted, variables kept."
    assert not cell.finished.state_lost
    assert cell.failure.ename == "KeyboardInterrupt" and cell.failure.line in (2, 3)
    await assert_state(client, kept=True)
    assert (await run(client, "n > 0")).stdout == "True\n"


async def test_swallowed_keyboard_interrupt_is_killed_after_the_grace(make_client):
    client = await make_client(interrupt_grace=0.5)
    await run(client, "marker = 'kept'")
    old = family(client)
    code = "import time\nwhile True:\n    try:\n        time.sleep(0.01)\n    except BaseException:\n        pass"
    task = asyncio.ensure_future(run(client, code))
    await interrupt_soon(client)
    cell = await task
    assert cell.status == "interrupted" and cell.finished.state_lost
    assert cell.reason.startswith("Didn't stop after interrupt") and cell.reason.endswith("variables lost.")
    assert_gone(old)
    await assert_state(client, kept=False)


async def test_timeout_interrupts_and_keeps_variables(make_client):
    client = await make_client()
    await run(client, "marker = 'kept'")
    cell = await run(client, "import time\ntime.sleep(30)", timeout=0.5)
    assert cell.status == "timeout" and not cell.finished.state_lost
    assert cell.reason == "Stopped after 0.5 s (the time limit): variables kept."
    assert cell.failure.ename == "TimeoutError" and cell.failure.line == 2
    await assert_state(client, kept=True)


async def test_interrupt_before_the_cell_begins_still_stops_it_gently(make_client):
    client = await make_client(interrupt_grace=10.0)
    await run(client, "marker = 'kept'")
    task = asyncio.ensure_future(run(client, "import time\ntime.sleep(30)"))
    while client._current is None:  # sent, but the worker may not have begun
        await asyncio.sleep(0)
    await client.interrupt()
    cell = await asyncio.wait_for(task, 5)  # long before the 10 s grace would kill
    assert cell.status == "interrupted" and not cell.finished.state_lost
    await assert_state(client, kept=True)


async def test_interrupt_between_cells_does_nothing(make_client):
    client = await make_client()
    await run(client, "marker = 'kept'")
    await client.interrupt()
    await asyncio.sleep(0.2)
    await assert_state(client, kept=True)


# -- crashes --------------------------------------------------------------------------

async def test_segfault_is_reported_with_the_cell_line(make_client):
    client = await make_client()
    await run(client, "marker = 'kept'")
    old = family(client)
    cell = await run(client, "import ctypes\nctypes.string_at(0)", label="cell 7")
    assert cell.status == "crashed" and cell.finished.state_lost
    assert cell.reason == ("Python crashed in native code (segmentation fault) in cell 7, line 2: "
                           "worker restarted, variables lost.")
    assert_gone(old)
    await assert_state(client, kept=False)


async def test_os_exit_is_reported_with_its_code(make_client):
    client = await make_client()
    await run(client, "marker = 'kept'")
    cell = await run(client, "import os\nos._exit(3)")
    assert cell.status == "crashed" and cell.finished.state_lost
    assert cell.reason == "Your code exited the worker (code 3): worker restarted, variables lost."
    await assert_state(client, kept=False)


async def test_deep_recursion_is_an_error_with_short_traceback(make_client):
    client = await make_client()
    await run(client, "marker = 'kept'")
    cell = await run(client, "def down(n):\n    return down(n + 1)\ndown(0)", label="rec")
    assert cell.status == "error" and cell.failure.ename == "RecursionError"
    assert len(cell.failure.frames) <= 40 and cell.failure.frames[0].lineno == 3
    assert "calling itself" in cell.failure.advice
    await assert_state(client, kept=True)


async def test_recursion_through_c_with_a_raised_limit(make_client):
    """3.11 segfaults here (3.12+ raises RecursionError): either way the user is told."""
    client = await make_client()
    await run(client, "marker = 'kept'")
    cell = await run(client, "import sys\nsys.setrecursionlimit(10**6)\n"
                             "def f(x):\n    return list(map(f, [x]))\nf(0)", label="deep")
    if cell.status == "crashed":
        assert "segmentation fault" in cell.reason and cell.finished.state_lost
        await assert_state(client, kept=False)
    else:
        assert cell.failure.ename == "RecursionError"
        await assert_state(client, kept=True)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
async def test_learner_cannot_kill_the_supervisor(make_client, sig):
    client = await make_client()
    await run(client, "marker = 'kept'")
    cell = await run(client, f"import os\nos.kill(os.getppid(), {int(sig)})\nimport time; time.sleep(0.2)\nprint('alive')")
    assert cell.status == "ok" and cell.stdout == "alive\n"
    await assert_state(client, kept=True)


async def test_sigkill_to_the_parent_in_a_namespace_is_ignored(make_client):
    client = await make_client(namespace=None)
    await client.ready.wait()
    if not client.in_namespace:
        pytest.skip("user+PID namespaces are not available here")
    await run(client, "marker = 'kept'")
    cell = await run(client, "import os\nprint(os.getppid())\nos.kill(os.getppid(), 9)\nprint('alive')")
    assert cell.stdout == "1\nalive\n"
    await assert_state(client, kept=True)


async def test_sigkill_to_the_nanny_without_namespace_cleans_up(make_client):
    client = await make_client(namespace=False)
    await run(client, "marker = 'kept'")
    old = family(client)
    cell = await run(client, "import os, subprocess\n"
                             "subprocess.Popen(['sleep', '300'])\n"
                             "os.kill(os.getppid(), 9)\nimport time; time.sleep(5)")
    assert cell.status == "crashed" and "supervisor died" in cell.reason
    assert_gone(old)
    await wait_state(client, WorkerState.READY)
    await assert_state(client, kept=False)


async def test_killing_its_own_process_group(make_client):
    client = await make_client()
    await run(client, "marker = 'kept'")
    cell = await run(client, "import os, signal\nos.killpg(0, signal.SIGKILL)")
    assert cell.status == "killed" and "SIGKILL" in cell.reason and cell.finished.state_lost
    await assert_state(client, kept=False)


# -- memory ------------------------------------------------------------------------------

async def test_memory_bomb_in_the_worker_is_a_memory_error(make_client):
    client = await make_client(memory_limit=400 * 2**20, device="cpu")
    await run(client, "marker = 'kept'")
    cell = await run(client, "hog = []\nwhile True:\n    hog.append(bytearray(20 * 2**20))")
    assert cell.status == "error" and cell.failure.ename == "MemoryError"
    assert "limit is 400 MiB" in cell.failure.advice and "--memory-limit" in cell.failure.advice
    await run(client, "del hog")
    await assert_state(client, kept=True)


async def test_memory_of_the_whole_tree_is_watched(make_client):
    """Children that each stay under the per-process limit still add up: the watchdog
    kills the tree and says the figure reached."""
    client = await make_client(memory_limit=300 * 2**20, device="cpu")
    await run(client, "marker = 'kept'")
    old = family(client)
    code = textwrap.dedent("""
        import os, time
        for _ in range(3):
            if os.fork() == 0:
                block = bytearray(150 * 2**20)
                time.sleep(60)
                os._exit(0)
        time.sleep(60)
    """)
    cell = await run(client, code, label="bomb")
    assert cell.status == "killed" and cell.finished.state_lost
    match = re.fullmatch(r"Stopped at ([\d.]+) ([MG])iB \(limit 300 MiB\): worker restarted, variables lost\.",
                         cell.reason)
    assert match, cell.reason
    assert float(match.group(1)) * (1024 if match.group(2) == "G" else 1) > 300
    assert_gone(old)
    await assert_state(client, kept=False)


async def test_pages_shared_after_fork_are_counted_once(make_client):
    """4 forks of a worker holding 200 MB read 1 GB as RSS but 200 MB as PSS: no kill."""
    measured = []
    client = await make_client(memory_limit=500 * 2**20, device="cpu",
                               on_event=lambda e: isinstance(e, ResourcesMeasured) and measured.append(e.rss))
    code = textwrap.dedent("""
        import os, time
        block = bytearray(os.urandom(2**20) * 200)
        kids = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                time.sleep(1.5)
                os._exit(0)
            kids.append(pid)
        for pid in kids:
            os.waitpid(pid, 0)
        print('survived')
    """)
    cell = await run(client, code)
    assert cell.status == "ok" and cell.stdout == "survived\n", cell.events
    assert max(measured) > 500 * 2**20  # RSS said too much; PSS said no


# -- output ----------------------------------------------------------------------------------

CLIENT_SCRIPT = """
import asyncio, json, sys
from tutor.sandbox.client import SandboxClient
from tutor.sandbox.events import OutputCapped, OutputStreamed, CellFinished

async def main():
    client = SandboxClient(workdir=sys.argv[1], prewarm=False)
    await client.start()
    report = {}
    for name, code in (("flood", "for i in range(10**6): print(i)"),
                       ("line", "print('x' * 10**8)"),
                       ("garbage", "import os\\nfor _ in range(200): os.write(1, os.urandom(2**16))")):
        text, capped, status = 0, None, None
        async for event in client.execute(code):
            if isinstance(event, OutputStreamed):
                text += len(event.text)
            elif isinstance(event, OutputCapped):
                capped = [event.dropped_lines, event.dropped_bytes]
            elif isinstance(event, CellFinished):
                status = event.status
        report[name] = {"text": text, "capped": capped, "status": status}
    await client.shutdown()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child of a pytest
    # that has torch loaded would report the parent's peak.
    hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    report["maxrss_mb"] = int(hwm.split()[1]) / 1024
    print(json.dumps(report))

asyncio.run(main())
"""


def test_floods_keep_the_tutor_process_small(tmp_path):
    """10^6 lines, one 100 MB line and 12 MB of random bytes: capped, counted, and the
    client process stays far under 200 MB."""
    out = subprocess.run([sys.executable, "-c", CLIENT_SCRIPT, str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["maxrss_mb"] < 200, report
    flood, line, garbage = report["flood"], report["line"], report["garbage"]
    assert flood["status"] == "ok" and flood["capped"][0] == 10**6 - 10_000 - 1_000
    assert line["status"] == "ok" and line["capped"][1] > 95 * 10**6
    assert line["text"] < 2 * 2**20
    assert garbage["status"] == "ok" and garbage["capped"] is not None


async def test_binary_garbage_is_escaped(make_client):
    client = await make_client()
    cell = await run(client, "import os\nos.write(1, bytes(range(256)) * 4)\nos.write(2, b'\\x1b]0;title\\x07\\x1b[2Jerr')")
    text = re.sub(r"\x1b\[[0-9;:]*m", "", cell.stdout + cell.stderr)
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", text)
    assert "\\x00\\x01" in cell.stdout and "\\xff" in cell.stdout
    assert cell.stderr == "err"


# -- processes -------------------------------------------------------------------------

SPAWN_CHILDREN = textwrap.dedent("""
    import multiprocessing as mp, os, subprocess, time
    ctx = mp.get_context('fork')
    workers = [ctx.Process(target=time.sleep, args=(300,)) for _ in range(2)]
    for w in workers:
        w.start()
    escaped = subprocess.Popen(['sleep', '301'], start_new_session=True)
    if os.fork() == 0:          # an orphan: its parent exits at once
        if os.fork() == 0:
            os.setsid(); time.sleep(302)
        os._exit(0)
    time.sleep(0.3)
    print('spawned')
""")


@pytest.mark.parametrize("namespace", NAMESPACES)
async def test_restart_takes_every_descendant(make_client, namespace):
    client = await make_client(namespace=namespace)
    cell = await run(client, SPAWN_CHILDREN)
    assert cell.stdout == "spawned\n", cell.events
    tree = family(client)
    assert len(tree) >= 6  # supervisor(s), worker, 2 mp workers, escaped sleep, orphan
    await client.restart()
    assert_gone(tree)
    await client.ready.wait()


@pytest.mark.parametrize("namespace", NAMESPACES)
async def test_interrupt_escalation_takes_hanging_children(make_client, namespace):
    client = await make_client(namespace=namespace, interrupt_grace=0.5)
    code = SPAWN_CHILDREN + "while True:\n    try:\n        time.sleep(1)\n    except KeyboardInterrupt:\n        pass\n"
    task = asyncio.ensure_future(run(client, code))
    await wait_state(client, WorkerState.RUNNING)
    await asyncio.sleep(1.0)
    tree = family(client)
    await client.interrupt()
    cell = await task
    assert cell.finished.state_lost
    assert_gone(tree)


KILLED_PARENT_SCRIPT = """
import asyncio, sys, time
from tutor.sandbox.client import SandboxClient

async def main():
    client = SandboxClient(workdir=sys.argv[1], prewarm=False, namespace={namespace})
    await client.start()
    async for event in client.execute(sys.argv[2]):
        pass
    print("ready", flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_killing_the_tutor_leaves_nothing_behind(tmp_path, namespace):
    script = KILLED_PARENT_SCRIPT.format(namespace=namespace)
    tutor = subprocess.Popen([sys.executable, "-c", script, str(tmp_path), SPAWN_CHILDREN],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert tutor.stdout.readline().strip() == "ready"
        tree = set(proctree.descendants(tutor.pid))
        groups = set()
        for pid in tree:
            fields = proctree._stat_fields(pid)
            if fields:
                groups.update((int(fields[2]), int(fields[3])))
        tree |= set(proctree.in_session_or_group(groups))
        assert len(tree) >= 6
        os.kill(tutor.pid, signal.SIGKILL)
        tutor.wait(10)
        assert_gone(tree)
    finally:
        if tutor.poll() is None:
            tutor.kill()


@pytest.mark.slow
async def test_dataloader_workers_go_with_the_worker(make_client):
    client = await make_client(interrupt_grace=0.5)
    code = textwrap.dedent("""
        import torch
        from torch.utils.data import DataLoader, TensorDataset
        data = DataLoader(TensorDataset(torch.arange(1000.0)), batch_size=10, num_workers=2,
                          persistent_workers=True)
        batches = iter(data)
        next(batches)
        print('loading')
    """)
    cell = await run(client, code, timeout=120)
    assert cell.stdout == "loading\n", cell.events
    tree = family(client)
    assert len(tree) >= 4
    task = asyncio.ensure_future(run(client, "while True:\n    try:\n        next(batches)\n"
                                            "    except BaseException:\n        pass"))
    await wait_state(client, WorkerState.RUNNING)
    await asyncio.sleep(0.5)
    # Interrupt twice, as a learner presses F7 again: the worker is stopped at once. (One
    # interrupt may end even this loop gently: one raised in a finalizer comes again on
    # the loop's next line, which can be outside its try.)
    await client.interrupt()
    await client.interrupt()
    cell = await task
    assert cell.status == "interrupted"
    assert_gone(tree)


@pytest.mark.skipif(os.getuid() == 0, reason="root is not limited by RLIMIT_NPROC")
async def test_fork_bomb_hits_the_process_limit(make_client):
    client = await make_client()
    await run(client, "marker = 'kept'")
    code = textwrap.dedent("""
        import os, time
        kids = 0
        try:
            for _ in range(2000):
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                kids += 1
        except BlockingIOError as err:
            print('stopped after', kids, type(err).__name__)
    """)
    cell = await run(client, code)
    assert cell.stdout.startswith("stopped after") and cell.stdout.endswith("BlockingIOError\n"), cell.events
    assert int(cell.stdout.split()[2]) < 2000
    tree = family(client)
    await assert_state(client, kept=True)
    await client.restart()
    assert_gone(tree)
