"""Issue 15 against the real worker (prewarm off: no torch): hostile text, learner
exceptions that used to kill the worker, limits that did not hold, fork storms and
forged results. Each test asserts the message, whether the worker survived or was
replaced, whether variables were kept, and (through make_client) that no process is
left behind."""

from __future__ import annotations

import asyncio
import os
import re
import textwrap
import time
import uuid

import pytest
from sandbox_helpers import assert_gone, family, run, wait_state
from test_hostile_text import assert_event_safe

from tutor.sandbox.events import WorkerState

pytestmark = pytest.mark.timeout(120)

MiB = 2**20
HOSTILE = "\x1b[2J\x1b[?1049h\x1b]0;pwned\x07\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\x1bP+q\x1b\\\x9b2J\x1b"


async def prepared(make_client, **kwargs):
    """A client whose worker has ``marker`` defined; (client, the worker's pid)."""
    client = await make_client(**kwargs)
    cell = await run(client, "marker = 'kept'\nimport os\nprint(os.getpid())")
    assert cell.status == "ok", cell.events
    return client, int(cell.stdout)


async def same_worker(client, pid: int) -> bool:
    """True if the worker with ``pid`` still runs and kept ``marker`` (checked with a cell)."""
    cell = await run(client, "import os\nprint(os.getpid(), marker)")
    if cell.status != "ok":
        assert cell.failure is not None and cell.failure.ename == "NameError", cell.events
        return False
    return cell.stdout == f"{pid} kept\n"


def all_text(cell) -> str:
    parts = []
    for event in cell.events:
        for value in vars(event).values() if hasattr(event, "__dict__") else ():
            parts.append(str(value))
    return "\n".join(parts)


# -- 1. escape sequences on every route ----------------------------------------------------

async def test_hostile_text_on_every_route_of_the_real_worker(make_client):
    client, pid = await prepared(make_client)
    code = textwrap.dedent(f"""
        from tutor import live
        H = {HOSTILE!r}
        print(H)
        live.log(step=1, **{{H: 1.0}})
        live.plot([0, 1], [1, 2], label=H, title=H)
        live.scatter([0, 1], [1, 2], label=H, title="s" + H)
        live.images([[[0, 255], [255, 0]]], labels=[H], title=H)
        Evil = type("Evil" + H, (Exception,), {{}})
        e = Evil(H)
        e.add_note(H)
        raise e
    """)
    cell = await run(client, code, label="hostile")
    kinds = {type(e).__name__ for e in cell.events}
    assert {"OutputStreamed", "MetricsLogged", "PlotUpdated", "ImagesShown", "CellFailed"} <= kinds, cell.events
    for event in cell.events:
        assert_event_safe(event)
    assert cell.failure.ename.startswith("Evil") and "\x1b" not in cell.failure.ename
    assert "pwned" not in cell.failure.message and "Y3Vy" not in cell.failure.message
    assert cell.status == "error" and not cell.finished.state_lost
    assert await same_worker(client, pid)


# -- 2. learner exceptions that used to kill the worker ------------------------------------

EXCEPTIONS = {
    "str raises": ("class E(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\nraise E()",
                   "E", "<exception str() failed>"),
    "str returns a number": ("class E(Exception):\n    def __str__(self):\n        return 5\nraise E()",
                             "E", "<exception str() failed>"),
    "str raises SystemExit": ("class E(Exception):\n    def __str__(self):\n        raise SystemExit(3)\nraise E()",
                              "E", "<exception str() failed>"),
    "notes not a list": ("e = ValueError('v')\ne.__notes__ = 42\nraise e", "ValueError", "v\n42"),
    "notes a string": ("e = ValueError('v')\ne.__notes__ = 'abc'\nraise e", "ValueError", "v\n'abc'"),
    "a note whose str raises": ("class N:\n    def __str__(self):\n        raise RuntimeError\n"
                                "e = ValueError('v')\ne.__notes__ = [N(), 'ok']\nraise e",
                                "ValueError", "v\n<note str() failed>\nok"),
    "notes that raise": ("class E(Exception):\n    @property\n    def __notes__(self):\n        raise RuntimeError('x')\n"
                         "raise E('m')", "E", "m\nIgnored error getting __notes__: RuntimeError('x')"),
    "a metaclass whose __name__ raises": ("class M(type):\n    @property\n    def __name__(cls):\n"
                                          "        raise RuntimeError\nclass E(Exception, metaclass=M):\n    pass\n"
                                          "raise E('m')", "E", "m"),
    "odd __module__ and __qualname__": ("class E(Exception):\n    pass\nE.__module__ = object()\n"
                                        "E.__qualname__ = 'q\\x1b[2J'\nraise E('m')", "E", "m"),
    "a chain that raises": ("class E(Exception):\n    @property\n    def __cause__(self):\n        raise RuntimeError\n"
                            "    @property\n    def __context__(self):\n        raise RuntimeError\nraise E('m')",
                            "E", "m"),
    "a chain that loops": ("a = ValueError('a')\nb = KeyError('b')\na.__cause__ = b\nb.__cause__ = a\n"
                           "b.__context__ = b\nraise a", "ValueError", "a"),
    "raised while handling one whose str raises": (
        "class E(Exception):\n    def __str__(self):\n        raise RuntimeError\n"
        "try:\n    raise E()\nexcept E:\n    raise ValueError('second')", "ValueError", "second"),
    "repr of the shown value raises": ("class R:\n    def __repr__(self):\n        raise RuntimeError('bad repr')\nR()",
                                       "RuntimeError", "bad repr"),
    "repr raises one whose str raises": (
        "class E(Exception):\n    def __str__(self):\n        raise RuntimeError\n"
        "class R:\n    def __repr__(self):\n        raise E()\nR()", "E", "<exception str() failed>"),
    "sys.exit with a code whose == raises": ("import sys\nclass C:\n    def __eq__(self, other):\n        raise RuntimeError\n"
                                             "    def __str__(self):\n        return 'code'\nsys.exit(C())",
                                             "SystemExit", "code"),
    "a BaseException of its own": ("class B(BaseException):\n    pass\nraise B('m')", "B", "m"),
    "a lone surrogate": ("raise ValueError('\\ud800 x')", "ValueError", "\\ud800 x"),
}


@pytest.mark.parametrize("name", EXCEPTIONS)
async def test_learner_exceptions_never_kill_the_worker(make_client, name):
    code, ename, message = EXCEPTIONS[name]
    client, pid = await prepared(make_client)
    cell = await run(client, code, label="cell 9")
    assert cell.status == "error", cell.events
    assert not cell.finished.state_lost
    assert cell.failure.ename == ename
    assert cell.failure.message == message
    assert all(frame.filename == "cell 9" for frame in cell.failure.frames), cell.failure.frames
    text = all_text(cell)
    assert "worker.py" not in text and "tracebacks.py" not in text and "tutor/sandbox" not in text
    assert await same_worker(client, pid)


# -- 3. limits ----------------------------------------------------------------------------------

LIMIT = 400 * MiB
WAIT = "import time\ntime.sleep(30)\nprint('never')"


async def assert_killed_for_memory(client, cell, old_tree) -> None:
    assert cell.status == "killed" and cell.finished.state_lost, cell.events
    assert re.match(r"Stopped at [\d.]+ [MG]iB \(limit 400 MiB\)", cell.reason), cell.reason
    assert "never" not in cell.stdout
    assert_gone(old_tree)
    await wait_state(client, WorkerState.READY)
    assert not await same_worker(client, 0)  # variables lost, a new worker answers


async def test_shared_anonymous_memory_counts(make_client):
    client, _ = await prepared(make_client, memory_limit=LIMIT, device="cpu")
    old = family(client)
    code = textwrap.dedent("""
        import mmap
        block = mmap.mmap(-1, 600 * 2**20, flags=mmap.MAP_SHARED)
        for offset in range(0, len(block), 2**20):
            block[offset:offset + 2**20] = b"x" * 2**20
    """) + WAIT
    cell = await run(client, code)
    await assert_killed_for_memory(client, cell, old)


async def test_a_mapped_dev_shm_file_counts(make_client):
    path = f"/dev/shm/tutor-test-{uuid.uuid4().hex}"
    try:
        client, _ = await prepared(make_client, memory_limit=LIMIT, device="cpu")
        old = family(client)
        code = textwrap.dedent(f"""
            import mmap, os
            fd = os.open({path!r}, os.O_RDWR | os.O_CREAT)
            os.ftruncate(fd, 600 * 2**20)
            block = mmap.mmap(fd, 600 * 2**20)
            for offset in range(0, len(block), 2**20):
                block[offset:offset + 2**20] = b"x" * 2**20
        """) + WAIT
        cell = await run(client, code)
        await assert_killed_for_memory(client, cell, old)
    finally:
        if os.path.exists(path):
            os.unlink(path)


async def test_a_written_dev_shm_file_counts_and_is_named(make_client):
    path = f"/dev/shm/tutor-test-{uuid.uuid4().hex}"
    try:
        client, _ = await prepared(make_client, memory_limit=LIMIT, device="cpu")
        old = family(client)
        code = textwrap.dedent(f"""
            with open({path!r}, "wb") as f:
                for _ in range(600):
                    f.write(b"x" * 2**20)
        """) + WAIT
        cell = await run(client, code)
        await assert_killed_for_memory(client, cell, old)
        assert "in files in memory (tmpfs), which stay until deleted" in cell.reason and path in cell.reason
        # the file outlives the worker; the new worker does not count it (it was there first)
        assert (await run(client, "import time\ntime.sleep(1.5)\nprint('fine')")).stdout == "fine\n"
    finally:
        if os.path.exists(path):
            os.unlink(path)


async def test_a_memfd_counts(make_client):
    client, _ = await prepared(make_client, memory_limit=LIMIT, device="cpu")
    old = family(client)
    code = textwrap.dedent("""
        import os
        fd = os.memfd_create("big")
        for _ in range(600):
            os.write(fd, b"x" * 2**20)
    """) + WAIT
    cell = await run(client, code)
    await assert_killed_for_memory(client, cell, old)


async def test_files_that_were_there_before_do_not_count(make_client):
    path = f"/dev/shm/tutor-test-{uuid.uuid4().hex}"
    with open(path, "wb") as f:
        for _ in range(300):
            f.write(b"x" * MiB)
    try:
        client, pid = await prepared(make_client, memory_limit=250 * MiB, device="cpu")
        cell = await run(client, "import time\ntime.sleep(1.6)\nprint('fine')")
        assert cell.status == "ok" and cell.stdout == "fine\n"
        assert await same_worker(client, pid)
    finally:
        os.unlink(path)


async def test_a_forked_child_never_answers_for_the_worker(make_client):
    client, pid = await prepared(make_client)
    cell = await run(client, "import os\nchild = os.fork()")  # the child ends the cell too
    assert cell.status == "ok", cell.events
    for n in range(5):
        cell = await run(client, f"print({n}, os.getpid())")
        assert cell.status == "ok" and cell.stdout == f"{n} {pid}\n", cell.events
    cell = await run(client, "print(os.waitpid(child, 0)[1])")  # it exited at once, code 0
    assert cell.stdout == "0\n"
    assert await same_worker(client, pid)


async def test_a_forked_child_that_touches_the_protocol_exits(make_client):
    client, pid = await prepared(make_client)
    code = textwrap.dedent("""
        import os, time
        from tutor import live
        child = os.fork()
        if child == 0:
            time.sleep(0.3)  # the cell has ended in the worker by now
            for step in range(1000):
                live.log(step=step, loss=1.0)
                time.sleep(0.01)
            time.sleep(3600)
    """)
    cell = await run(client, code)
    assert cell.status == "ok"
    waited = await run(client, "import time\nstarted = time.time()\nstatus = os.waitpid(child, 0)[1]\n"
                               "print(status, time.time() - started < 3)")
    assert waited.stdout == "0 True\n", waited.events
    assert await same_worker(client, pid)


async def test_a_forked_child_that_never_exits_cannot_read_requests(make_client):
    client, pid = await prepared(make_client)
    cell = await run(client, "import os, time\nchild = os.fork()\nif child == 0:\n    while True:\n"
                             "        time.sleep(1)")
    assert cell.status == "ok"
    for n in range(5):
        cell = await run(client, f"print({n}, os.getpid())")
        assert cell.stdout == f"{n} {pid}\n", cell.events
    cell = await run(client, "print(os.waitpid(child, os.WNOHANG)[0])")  # still alive, harmless
    assert cell.stdout == "0\n"


async def test_a_huge_exception_message_is_cut_in_the_worker(make_client):
    client, pid = await prepared(make_client)
    cell = await run(client, "raise ValueError('é' * 10_000_000)")  # 20 MB of UTF-8
    assert cell.status == "error" and not cell.finished.state_lost
    message = cell.failure.message
    assert len(message) < 25_000
    assert message.startswith("é" * 1000) and message.endswith("é" * 1000)
    assert "characters cut: the text has 10,000,000 in all" in message
    assert cell.stdout == cell.stderr == ""  # not printed a second time
    assert await same_worker(client, pid)


async def test_huge_notes_are_cut_too(make_client):
    client, pid = await prepared(make_client)
    cell = await run(client, "e = ValueError('m')\nfor _ in range(10_000):\n    e.add_note('n' * 100_000)\nraise e")
    assert cell.status == "error" and len(cell.failure.message) < 50_000
    assert await same_worker(client, pid)


async def test_a_chart_too_big_for_the_protocol_is_refused_clearly(make_client):
    client, pid = await prepared(make_client)
    cell = await run(client, "from tutor import live\nlive.plot([1, 2], label='x' * (17 * 2**20))\nprint('after')")
    assert cell.status == "ok" and "after" in cell.stdout
    assert "live.plot: too much to draw at once (17.0 MiB in one message, over the 16 MiB limit)" in cell.stderr
    assert await same_worker(client, pid)


async def test_a_cell_too_big_to_send_is_refused_clearly(make_client):
    client, pid = await prepared(make_client)
    cell = await run(client, "x = 1\n#" + "#" * (17 * MiB))
    assert cell.status == "error" and cell.failure.ename == "ValueError"
    assert re.fullmatch(r"this cell is 17 MiB: too big to send to the worker \(the limit is 16 MiB\)",
                        cell.failure.message), cell.failure.message
    assert await same_worker(client, pid)


OUTPUT_BEFORE_EXIT = {
    "print(flush=True) then os._exit": ("print('bye', flush=True)\nimport os\nos._exit(0)", "bye\n", 0),
    "print then os._exit": ("print('bye')\nimport os\nos._exit(4)", "bye\n", 4),
    "os.write then the C _exit": ("import os, ctypes\nos.write(1, b'raw\\n')\nctypes.CDLL(None)._exit(5)",
                                  "raw\n", 5),
}


@pytest.mark.parametrize("name", OUTPUT_BEFORE_EXIT)
async def test_output_just_before_a_hard_exit_is_kept(make_client, name):
    code, expected, exit_code = OUTPUT_BEFORE_EXIT[name]
    client, _ = await prepared(make_client)
    old = family(client)
    cell = await run(client, code)
    assert cell.status == "crashed" and cell.finished.state_lost
    assert cell.stdout == expected, cell.events
    assert cell.reason == f"Your code exited the worker (code {exit_code}): worker restarted, variables lost."
    assert_gone(old)
    assert not await same_worker(client, 0)


# -- 4. fork storms, swallowed interrupts, deep structures ------------------------------------

FORK_STORM = textwrap.dedent("""
    import logging, os, threading, time
    hook_lock = threading.Lock()
    def slow_hook():  # like logging's: take a lock, release it; a SIGINT lands in between
        hook_lock.acquire()
        time.sleep(0.02)
        hook_lock.release()
    os.register_at_fork(after_in_parent=slow_hook)
    kids = []
    while True:
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        kids.append(pid)
""")


async def test_a_fork_storm_stops_at_the_interrupt(make_client):
    client, pid = await prepared(make_client, interrupt_grace=5.0, max_processes=4096)
    started = time.monotonic()
    cell = await run(client, FORK_STORM, timeout=1.0)
    elapsed = time.monotonic() - started
    assert cell.status == "timeout" and not cell.finished.state_lost, cell.events
    assert cell.reason == "Stopped after 1 s (the time limit): variables kept."
    assert elapsed < 1.0 + 5.0
    assert "Exception ignored" not in cell.stderr and "_releaseLock" not in cell.stderr
    # every child got the interrupt too, and went
    reaped = await run(client, textwrap.dedent("""
        deadline = time.time() + 10
        left = set(kids)
        while left and time.time() < deadline:
            for kid in list(left):
                if os.waitpid(kid, os.WNOHANG)[0]:
                    left.discard(kid)
            time.sleep(0.05)
        print(len(kids) > 3, len(left), hook_lock.acquire(timeout=2))
    """))
    # the children went, and the hook was never cut short (its lock is free)
    assert reaped.stdout == "True 0 True\n", reaped.events
    assert await same_worker(client, pid)


SWALLOWING = {
    "__del__": "import time\nclass Slow:\n    def __del__(self):\n        time.sleep(0.05)\nwhile True:\n    Slow()",
    "a weakref callback": ("import time, weakref\nclass Thing:\n    pass\ndef gone(ref):\n    time.sleep(0.05)\n"
                           "while True:\n    thing = Thing()\n    ref = weakref.ref(thing, gone)\n    del thing"),
}


@pytest.mark.parametrize("where", SWALLOWING)
async def test_an_interrupt_swallowed_by_a_finalizer_is_delivered_again(make_client, where):
    client, pid = await prepared(make_client, interrupt_grace=5.0)
    code = SWALLOWING[where]
    started = time.monotonic()
    cell = await run(client, code, timeout=0.5)
    assert cell.status == "timeout" and not cell.finished.state_lost, cell.events
    assert time.monotonic() - started < 5.0
    assert "Exception ignored" not in cell.stderr
    assert await same_worker(client, pid)


async def test_a_fork_bomb_is_stopped_by_the_process_count(make_client):
    client, _ = await prepared(make_client, max_processes=30)
    old = family(client)
    code = ("import os, time\nfor _ in range(80):\n    if os.fork() == 0:\n        time.sleep(60)\n"
            "        os._exit(0)\ntime.sleep(30)")
    cell = await run(client, code)
    assert cell.status == "killed" and cell.finished.state_lost, cell.events
    match = re.fullmatch(r"Stopped: your code started (\d+) processes \(a fork bomb\?\): "
                         r"worker restarted, variables lost\.", cell.reason)
    assert match and int(match.group(1)) > 30, cell.reason
    assert_gone(old)
    assert not await same_worker(client, 0)


async def test_printing_a_deep_structure_gets_the_right_advice(make_client):
    client, pid = await prepared(make_client)
    cell = await run(client, "d = {}\nfor _ in range(100_000):\n    d = {'a': d}\nprint(d)")
    assert cell.status == "error" and cell.failure.ename == "RecursionError"
    assert cell.failure.advice.startswith("Printing a structure this deep")
    assert "recursion limit" in cell.failure.advice and "calling itself" not in cell.failure.advice
    assert await same_worker(client, pid)


# -- 5. forged results ------------------------------------------------------------------------

async def test_a_forged_finished_frame_does_not_pass(make_client):
    client, pid = await prepared(make_client)
    code = textwrap.dedent("""
        import os
        from tutor.sandbox.protocol import encode
        for request in range(1, 50):
            frame = encode({"t": "finished", "id": request, "status": "ok", "duration": 0.0, "threads": []})
            for fd in range(3, 256):
                try:
                    os.write(fd, frame)
                except OSError:
                    pass
        raise AssertionError("not solved")
    """)
    cell = await run(client, code)
    assert cell.status == "crashed" and cell.finished.state_lost, cell.events
    assert "without the worker's key" in cell.reason and "private channel" in cell.reason
    await wait_state(client, WorkerState.READY)
    assert not await same_worker(client, pid)


async def test_the_key_is_nowhere_a_cell_looks_by_accident(make_client):
    client, _ = await prepared(make_client)
    key = client._proc.launched.key
    cell = await run(client, textwrap.dedent("""
        import os, sys
        seen = repr(globals()) + repr(dict(os.environ)) + " ".join(sys.argv)
        seen += open('/proc/self/cmdline', 'rb').read().decode(errors='replace')
        seen += open('/proc/self/environ', 'rb').read().decode(errors='replace')
        print(len(seen) > 100)
    """))
    assert cell.stdout == "True\n"
    probe = await run(client, f"print({key!r} in seen)")
    assert probe.stdout == "False\n"


async def test_a_cell_that_closes_the_channel_is_a_clear_crash(make_client):
    client, _ = await prepared(make_client)
    old = family(client)
    cell = await run(client, "import os\nos.closerange(3, 256)\nprint('closed')")
    assert cell.status == "crashed" and cell.finished.state_lost
    assert_gone(old)
    await wait_state(client, WorkerState.READY)
    assert (await run(client, "print('back')")).stdout == "back\n"


async def test_interrupting_a_fork_storm_by_hand_keeps_the_worker(make_client):
    client, pid = await prepared(make_client, interrupt_grace=5.0, max_processes=4096)
    task = asyncio.ensure_future(run(client, FORK_STORM))
    await wait_state(client, WorkerState.RUNNING)
    await asyncio.sleep(1.0)
    await client.interrupt()
    cell = await asyncio.wait_for(task, 10)
    assert cell.status == "interrupted" and cell.reason == "Interrupted, variables kept."
    assert "Exception ignored" not in cell.stderr
    assert await same_worker(client, pid)
