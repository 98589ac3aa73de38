"""The real worker (prewarm off, so no torch): a notebook-like namespace, captured
output, learner tracebacks, charts from tutor.live."""

from __future__ import annotations

import asyncio
import os

import pytest
from sandbox_helpers import run

from tutor.sandbox.events import (
    CellFinished,
    CellStarted,
    ImagesShown,
    MetricsLogged,
    OutputCapped,
    PlotUpdated,
    WorkerState,
)
from tutor.sandbox.outputcap import CapLimits

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def client(make_client):
    return await make_client()


async def test_cells_share_a_namespace_and_show_the_last_value(client):
    assert (await run(client, "x = 20")).status == "ok"
    cell = await run(client, "y = x + 1\ny * 2")
    assert cell.stdout == "42\n"
    assert (await run(client, "y;")).stdout == ""  # a trailing semicolon hides it, as in Jupyter
    assert (await run(client, "__name__")).stdout == "'__main__'\n"


async def test_ready_info_without_torch(client):
    await client.ready.wait()
    assert client.info.torch_version is None and client.info.device == "cpu"
    assert os.path.exists(f"/proc/{client.info.pid}")  # the pid as this process sees it


async def test_fd_level_output_is_captured_in_order(client):
    code = ("import os, subprocess, sys\n"
            "print('one')\n"
            "os.system('echo two')\n"
            "subprocess.run(['echo', 'three'])\n"
            "os.write(1, b'four\\n')\n"
            "print('to stderr', file=sys.stderr)\n")
    cell = await run(client, code)
    assert cell.stdout == "one\ntwo\nthree\nfour\n"
    assert cell.stderr == "to stderr\n"


async def test_workdir_is_the_working_directory(make_client, tmp_path):
    client = await make_client(workdir=tmp_path / "lesson-ws")
    cell = await run(client, "import os; print(os.getcwd()); open('made.txt', 'w').write('x');")
    assert cell.stdout.strip() == str(tmp_path / "lesson-ws")
    assert (tmp_path / "lesson-ws" / "made.txt").exists()


async def test_error_shows_learner_frames_only(client):
    await run(client, "def inner(v):\n    return 1 / v\n", label="cell 1")
    cell = await run(client, "a = 1\ninner(0)", label="cell 2")
    failure = cell.failure
    assert cell.status == "error"
    assert failure.ename == "ZeroDivisionError" and failure.message == "division by zero"
    assert [(f.filename, f.lineno, f.name) for f in failure.frames] == [("cell 2", 2, "<module>"),
                                                                       ("cell 1", 2, "inner")]
    assert failure.frames[1].source == "return 1 / v"
    assert failure.line == 2
    assert not any("worker" in f.filename or f.filename.endswith(".py") for f in failure.frames)


async def test_library_frames_are_left_out(client):
    cell = await run(client, "import json\njson.loads('{bad')", label="c")
    assert cell.failure.ename == "JSONDecodeError"
    assert [f.filename for f in cell.failure.frames] == ["c"]


async def test_what_a_cell_printed_comes_before_its_error(client):
    """As in a terminal: the output of the lines that ran, then the error they led to
    (the output was sent after the error, so a learner read it under the traceback)."""
    from tutor.sandbox.events import CellFailed, OutputStreamed

    cell = await run(client, "import sys\nprint('first')\nprint('warned', file=sys.stderr)\n1 / 0", label="c")
    kinds = [type(e).__name__ for e in cell.events if isinstance(e, (OutputStreamed, CellFailed))]
    assert kinds == ["OutputStreamed", "OutputStreamed", "CellFailed"]
    assert cell.stdout == "first\n" and cell.stderr == "warned\n"
    cell = await run(client, "print('late')\nraise KeyboardInterrupt")
    assert [type(e).__name__ for e in cell.events if isinstance(e, (OutputStreamed, CellFailed))] == \
        ["OutputStreamed", "CellFailed"]


async def test_syntax_error_points_at_the_line(client):
    cell = await run(client, "x = 1\nif x\n    pass", label="cell 5")
    failure = cell.failure
    assert failure.ename == "SyntaxError" and failure.line == 2
    assert failure.frames[0].filename == "cell 5" and failure.frames[0].source == "if x"


async def test_name_error_advice(client):
    cell = await run(client, "undefined_thing + 1")
    assert cell.failure.ename == "NameError"
    assert "earlier cell" in cell.failure.advice


async def test_a_misspelt_name_is_answered_with_the_name_meant(client):
    """A typo is the commonest NameError: say the close name (as Python does in a
    terminal), not "run an earlier cell"."""
    cell = await run(client, "prnt(1)")
    assert cell.failure.message == "name 'prnt' is not defined. Did you mean: 'print'?"
    assert cell.failure.advice is None
    await run(client, "random_tensor = 7")
    cell = await run(client, "def f():\n    return random_tensr\nf()")
    assert cell.failure.message.endswith("Did you mean: 'random_tensor'?")
    cell = await run(client, "import math\nmath.sqr(4)")
    assert cell.failure.message == "module 'math' has no attribute 'sqr'. Did you mean: 'sqrt'?"
    cell = await run(client, "class Box:\n    width = 1\nBox().widht")
    assert cell.failure.message.endswith("Did you mean: 'width'?")
    cell = await run(client, "math.zzzzzz")  # nothing close: the plain message
    assert cell.failure.message == "module 'math' has no attribute 'zzzzzz'"
    cell = await run(client, "class Odd:\n    def __dir__(self):\n        raise OSError\nOdd().x")
    assert cell.failure.message == "'Odd' object has no attribute 'x'"  # a failing dir(): no suggestion


async def test_a_matrix_shape_mismatch_says_which_sizes_differ(client):
    """The commonest PyTorch error gets the inner-dimensions rule with its own numbers
    (torch's message, without torch: the worker here has none)."""
    cell = await run(client, "raise RuntimeError('mat1 and mat2 shapes cannot be multiplied (4x3 and 2x5)')")
    assert cell.failure.advice.startswith("The inner sizes must match, and here they are 3 and 2.")
    assert "the input's last size (3) must equal the layer's in_features (2)" in cell.failure.advice
    cell = await run(client, "raise RuntimeError('shapes cannot be multiplied, somehow')")
    assert cell.failure.advice is None  # no sizes to name: no guess


async def test_sys_exit_is_ignored_with_a_note(client):
    await run(client, "kept = 'yes'")
    cell = await run(client, "import sys\nprint('before')\nsys.exit()\nprint('after')")
    assert cell.status == "ok" and cell.stdout == "before\n"
    assert "sys.exit() was ignored" in cell.stderr
    cell = await run(client, "import sys; sys.exit(3)")
    assert cell.status == "error" and cell.failure.ename == "SystemExit" and cell.failure.message == "3"
    assert "doesn't stop the tutor's worker" in cell.failure.advice
    assert (await run(client, "kept")).stdout == "'yes'\n"
    assert client.state is WorkerState.READY


async def test_input_gives_a_clear_error(client):
    cell = await run(client, "name = input('Your name? ')")
    assert cell.failure.ename == "NoInputError"
    assert "can't read the keyboard" in cell.failure.advice
    cell = await run(client, "import sys; sys.stdin.read()")
    assert cell.status == "ok"  # stdin is /dev/null: reading gives nothing, never blocks


async def test_closed_stdout_and_stderr_come_back(client):
    cell = await run(client, "import os, sys\nprint('last words', flush=True)\nos.close(1)\nos.close(2)")
    assert cell.status == "ok" and cell.stdout == "last words\n"
    cell = await run(client, "import os\nprint('fd 1 is back')\nos.system('echo shell too');")
    assert cell.stdout == "fd 1 is back\nshell too\n"
    await run(client, "import sys; sys.stdout.close()")
    assert (await run(client, "print('object is back')")).stdout == "object is back\n"


async def test_background_threads_are_reported(client):
    cell = await run(client, "import threading, time\n"
                             "stop = threading.Event()\n"
                             "t = threading.Thread(target=stop.wait, name='trainer', daemon=True)\n"
                             "t.start()")
    assert cell.finished.threads == ("trainer",)
    cell = await run(client, "stop.set(); t.join()")
    assert cell.finished.threads == ()


async def test_output_between_cells_is_dropped(client):
    await run(client, "import threading, time\n"
                      "def chatter():\n"
                      "    for _ in range(40):\n"
                      "        print('background', flush=True); time.sleep(0.005)\n"
                      "threading.Thread(target=chatter, daemon=True).start()")
    await asyncio.sleep(0.5)
    cell = await run(client, "print('mine')")
    assert cell.stdout == "mine\n"


async def test_colours_and_carriage_returns_are_kept_control_bytes_escaped(client):
    cell = await run(client, "import sys\n"
                             "sys.stdout.write('\\x1b[31mred\\x1b[0m 10%\\r20%\\n')\n"
                             "sys.stdout.write('\\x1b[2J\\x07bell\\x00\\n')\n"
                             "sys.stdout.flush()\n"
                             "sys.stdout.buffer.write(b'\\xff\\xfe bytes\\n');")
    assert cell.stdout == "\x1b[31mred\x1b[0m 10%\r20%\n\\x07bell\\x00\n\\xff\\xfe bytes\n"


async def test_output_cap_keeps_head_and_tail(make_client):
    limits = CapLimits(head_lines=10, head_bytes=10_000, tail_lines=5, tail_bytes=1_000)
    client = await make_client(output_limits=limits)
    cell = await run(client, "for i in range(1000): print(i)")
    lines = cell.stdout.splitlines()
    assert lines == [str(i) for i in range(10)] + [str(i) for i in range(995, 1000)]
    (capped,) = cell.of(OutputCapped)
    assert capped.dropped_lines == 985
    assert capped.dropped_bytes == sum(len(f"{i}\n") for i in range(10, 995))
    # the next cell starts a fresh budget
    assert (await run(client, "print('fresh')")).stdout == "fresh\n"
    # a flood, then an error: the head, the count and the tail, then the error (once each)
    cell = await run(client, "for i in range(1000): print(i)\n1 / 0")
    assert cell.stdout.splitlines() == [str(i) for i in range(10)] + [str(i) for i in range(995, 1000)]
    order = [type(e).__name__ for e in cell.events if not isinstance(e, (CellStarted, CellFinished))]
    assert order[-1] == "CellFailed" and order.count("OutputCapped") == 1


async def test_charts_and_images_from_live(client):
    code = ("from tutor import live\n"
            "import numpy as np\n"
            "for step in range(200):\n"
            "    live.log(step=step, loss=1.0 / (step + 1))\n"
            "live.plot([0, 1, 2], [0, 1, 4], label='truth', title='fit')\n"
            "live.plot([0, 1, 2], [0, 1, 3], label='guess', title='fit')\n"
            "live.plot([0, 1, 2], [0, 2, 4], label='guess', title='fit')\n"
            "live.scatter(np.arange(3), np.arange(3) * 2)\n"
            "live.images(np.zeros((3, 28, 28), dtype=np.float32), labels=['a', 'b', 'c'], ncols=3)\n")
    cell = await run(client, code)
    assert cell.status == "ok", cell.failure
    points = [p for e in cell.of(MetricsLogged) for p in e.points]
    assert [step for step, _ in points] == list(range(200))
    assert points[-1][1] == {"loss": 1.0 / 200}
    assert len(cell.of(MetricsLogged)) < 20  # coalesced, not one event per call
    fit = [e for e in cell.of(PlotUpdated) if e.title == "fit"][-1]
    assert fit.kind == "line" and [(s.label, s.y) for s in fit.series] == [("truth", (0, 1, 4)), ("guess", (0, 2, 4))]
    scatter = [e for e in cell.of(PlotUpdated) if e.kind == "scatter"][-1]
    assert scatter.series[0].y == (0.0, 2.0, 4.0)
    (shown,) = cell.of(ImagesShown)
    assert shown.ncols == 3 and [i.label for i in shown.images] == ["a", "b", "c"]
    assert shown.images[0].width == 28 and shown.images[0].mode == "L" and len(shown.images[0].pixels) == 28 * 28
    # charts belong to their cell: the next cell starts empty
    later = await run(client, "live.plot([1, 2], label='new', title='fit')")
    assert [s.label for s in later.of(PlotUpdated)[-1].series] == ["new"]


async def test_live_errors_are_learner_errors(client):
    cell = await run(client, "from tutor import live\nlive.plot([1, 2, 3], [1, 2])")
    assert cell.failure.ename == "ValueError" and "must match" in cell.failure.message
    assert cell.failure.line == 2


async def test_rlimits_in_the_worker(client):
    cell = await run(client, "import resource\n"
                             "print(resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY)\n"
                             "print(resource.getrlimit(resource.RLIMIT_CORE)[0])\n"
                             "print(resource.getrlimit(resource.RLIMIT_FSIZE)[0] > 2**30)\n"
                             "print(open('/proc/self/oom_score_adj').read().strip())")
    assert cell.stdout.split() == ["True", "0", "True", "1000"]


async def test_rlimit_data_follows_the_memory_limit_on_cpu(make_client):
    client = await make_client(memory_limit=3 * 2**30, device="cpu")
    cell = await run(client, "import resource; print(resource.getrlimit(resource.RLIMIT_DATA)[0])")
    assert int(cell.stdout) == 3 * 2**30


async def collected(events) -> list:
    return [event async for event in events]


async def test_submit_sends_at_once_when_the_worker_is_free_and_else_leaves_it_to_execute(client):
    await client.ready.wait()
    first = client.submit("import time; time.sleep(0.3); print('first')", label="first")
    assert first is not None and client.state is WorkerState.RUNNING  # sent: no await in between
    assert client.submit("print('second')", label="second") is None  # a cell runs: nothing sent
    queued = asyncio.ensure_future(run(client, "print('third')"))  # execute waits its turn
    assert "first\n" in "".join(e.text for e in await collected(first) if hasattr(e, "text"))
    assert (await queued).stdout == "third\n"
    bad = await collected(client.submit("x = (", label="bad"))  # a cell's own errors come as events
    assert bad[-1].status == "error" and client.state is WorkerState.READY
    too_big = "x = 1\n" * 3_000_000
    assert client.submit(too_big, label="big") is None  # not sent: execute says why
    assert client.state is WorkerState.READY
    cell = await run(client, too_big)
    assert cell.status == "error" and "too big to send" in cell.events[0].message


async def test_a_submitted_cell_nobody_listens_to_any_more_is_stopped(client):
    await client.ready.wait()
    events = client.submit("import time\nwhile True: time.sleep(0.01)", label="loop")
    assert isinstance(await events.__anext__(), CellStarted)
    await events.aclose()  # the caller went away
    cell = await run(client, "print('after')")
    assert cell.stdout == "after\n"  # the loop was interrupted, the worker kept
