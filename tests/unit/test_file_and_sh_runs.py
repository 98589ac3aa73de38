"""``python file=PATH`` and ``sh`` cells run by the real worker, through ``tutor run``'s
runner and the client directly: files land in the workspace (never outside it), a shell
command streams, fails clearly, is interrupted (with what it started), floods no more
than a Python cell may, and a check can grade a file or a command's output."""

from __future__ import annotations

import asyncio
import os
import textwrap
import time
from pathlib import Path

import pytest

from tutor.execution import job_for
from tutor.lessons.catalog import load_lesson
from tutor.lessons.model import CodeCell
from tutor.runner import describe_failure, run_lesson
from tutor.sandbox.client import SandboxClient
from tutor.sandbox.events import CellFailed, CellFinished, OutputCapped, OutputStreamed

pytestmark = pytest.mark.timeout(120)

LESSON = """\
---
id: files-and-shell
title: Files and shell
---

## A package

```python file=going_modular/engine.py id=engine
def double(x):
    return 2 * x
```

```python file=going_modular/__init__.py id=package
```

```python file=train.py id=script
import argparse
from going_modular.engine import double

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
args = parser.parse_args()
for epoch in range(args.epochs):
    print(f"epoch {epoch + 1}: {double(epoch)}", flush=True)
```

```sh id=run-it
python train.py --epochs 3
ls going_modular
```

```python id=import-back
from going_modular.engine import double
print(double(21))
```

```sh raises=ShellCommandError id=fails
echo about to fail; exit 3
```

## Exercise

```sh exercise id=run-five
python train.py --epochs ...
```

```python check
from tutor.sandbox.workspace import last_command

run = last_command()
assert run is not None and run.ok, "run train.py first"
assert "epoch 5:" in run.output and "epoch 6:" not in run.output, f"train for 5 epochs, not: {run.output!r}"
```

```sh solution
python train.py --epochs 5
```

```python exercise file=going_modular/utils.py id=utils
def triple(x):
    ...
```

```python check
import importlib
import going_modular.utils as utils

assert utils.triple(2) == 6, "triple(2) should be 6"
```

```python solution
def triple(x):
    return 3 * x
```
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "01-files.md"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
async def client(tmp_path):
    client = SandboxClient(workdir=tmp_path / "ws", prewarm=False, interrupt_grace=2.0)
    yield client
    await client.shutdown()


async def run_cell(client, cell: CodeCell, timeout=None):
    job = job_for(cell, label="cell 1")
    events = []
    async for event in client.execute(job.code.code, label=job.code.label, timeout=timeout):
        events.append(event)
    return events


def shell(text: str, **fields) -> CodeCell:
    return CodeCell(id="sh", code=text, line=1, language="sh", **fields)


def text_of(events, name="stdout") -> str:
    return "".join(e.text for e in events if isinstance(e, OutputStreamed) and e.name == name)


async def test_a_lesson_of_files_and_commands_runs_and_proves_its_exercises(tmp_path, client):
    path = write(tmp_path, LESSON)
    run = await run_lesson(load_lesson(path), mode="selftest", client=client)
    assert run.ok, [describe_failure(r) for r in run.failures]
    by_id = {r.block_id: r for r in run.results if r.kind in ("cell", "solution")}
    assert by_id["engine"].output == "Wrote going_modular/engine.py (2 lines)\n"
    assert by_id["run-it"].output.startswith("epoch 1: 0\nepoch 2: 2\nepoch 3: 4\n__init__.py\n")
    assert by_id["run-it"].output.endswith("engine.py\n")
    assert by_id["import-back"].output == "42\n"
    assert by_id["fails"].message == "raised ShellCommandError, as it should"
    assert (tmp_path / "ws" / "going_modular" / "utils.py").read_text() == "def triple(x):\n    return 3 * x\n"
    starters = {r.block_id: r.message for r in run.results if r.kind == "starter"}
    assert starters["run-five"].startswith("fails as it should")
    assert starters["utils"] == "fails as it should: triple(2) should be 6"


async def test_a_shell_failure_says_which_command_and_status_without_python_frames(client):
    events = await run_cell(client, shell("echo start\nfalse\nexit 2\n"))
    [failed] = [e for e in events if isinstance(e, CellFailed)]
    assert failed.ename == "ShellCommandError"
    assert failed.message == "`echo start ...` exited with status 2"
    assert failed.frames == () and failed.line is None
    assert text_of(events) == "start\n"


async def test_python_in_a_shell_cell_is_the_workers_interpreter_and_streams(client, tmp_path):
    code = ("python -c 'import sys, time; print(sys.executable, flush=False); time.sleep(1.5); print(\"late\")'; "
            "python3 -c 'import sys; print(sys.version_info[:2])'")
    seen = []
    started = time.monotonic()
    async for event in client.execute(job_for(shell(code), label="cell 1").code.code, label="cell 1"):
        if isinstance(event, OutputStreamed):
            seen.append((time.monotonic() - started, event.text))
    first_at, first = seen[0]
    import sys

    assert first.startswith(sys.executable) or first.startswith(os.path.realpath(sys.executable))
    assert first_at < 1.4, f"the first line came after {first_at:.1f} s: not streamed (unbuffered python)"
    assert "".join(text for _, text in seen).endswith(f"late\n{tuple(sys.version_info[:2])}\n")


async def test_a_shell_cell_runs_in_the_workspace_even_after_the_cwd_changed(client, tmp_path):
    async for _ in client.execute("import os; os.chdir('/')", label="cell 0"):
        pass
    events = await run_cell(client, shell("pwd; echo hi > here.txt"))
    assert text_of(events).strip() == str((tmp_path / "ws").resolve())
    assert (tmp_path / "ws" / "here.txt").read_text() == "hi\n"
    events = await run_cell(client, CodeCell(id="f", code="x = 1\n", line=1, file="pkg/x.py"))
    assert (tmp_path / "ws" / "pkg" / "x.py").read_text() == "x = 1\n"


async def test_a_looping_shell_cell_is_interrupted_with_everything_it_started(client, tmp_path):
    marker = tmp_path / "ws" / "child.pid"
    code = f"sleep 300 & echo $! > {marker}; trap '' INT; while true; do sleep 0.1; done"
    job = job_for(shell(code), label="cell 1")
    events = []

    async def interrupt_soon():
        while not marker.exists() or not marker.read_text().strip():
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        await client.interrupt()

    stopper = asyncio.create_task(interrupt_soon())
    async for event in client.execute(job.code.code, label="cell 1", timeout=60):
        events.append(event)
    await stopper
    finished = events[-1]
    assert isinstance(finished, CellFinished) and finished.status == "interrupted"
    assert not finished.state_lost, "the shell cell ignoring SIGINT must not cost the worker its variables"
    # Seen from the worker (it may live in its own PID namespace): the background sleep is gone.
    probe = textwrap.dedent(f"""
        import time
        pid = int(open({str(marker)!r}).read())
        for _ in range(50):
            try:
                state = open(f"/proc/{{pid}}/stat").read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                state = "gone"
            if state in ("gone", "Z"):
                break
            time.sleep(0.1)
        print(state)
    """)
    out = []
    async for event in client.execute(probe, label="probe"):
        if isinstance(event, OutputStreamed):
            out.append(event.text)
    assert "".join(out).strip() in ("gone", "Z"), "the background `sleep 300` the command started is still running"
    events = await run_cell(client, shell("echo still here"))
    assert text_of(events) == "still here\n"


async def test_a_flooding_shell_cell_is_capped_like_python_and_keeps_its_tail_for_checks(client):
    events = await run_cell(client, shell("yes 'line of a flood' | head -n 400000; echo the end"))
    finished = events[-1]
    assert isinstance(finished, CellFinished) and finished.status == "ok"
    capped = [e for e in events if isinstance(e, OutputCapped)]
    assert capped and capped[-1].dropped_lines > 0
    shown = text_of(events)
    assert len(shown) < 2_000_000
    probe = ("from tutor.sandbox.workspace import last_command; r = last_command(); "
             "print(r.returncode, len(r.output) <= 1 << 20, r.output.endswith('the end\\n'))")
    out = []
    async for event in client.execute(probe, label="probe"):
        if isinstance(event, OutputStreamed):
            out.append(event.text)
    assert "".join(out) == "0 True True\n"


async def test_a_file_cell_that_resolves_outside_the_workspace_is_refused(client, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "ws").mkdir(exist_ok=True)
    (tmp_path / "ws" / "link").symlink_to(outside)
    events = await run_cell(client, CodeCell(id="f", code="x = 1\n", line=1, file="link/evil.py"))
    [failed] = [e for e in events if isinstance(e, CellFailed)]
    assert failed.ename == "WorkspacePathError" and "leads outside the lesson's workspace" in failed.message
    assert failed.frames == ()
    assert not (outside / "evil.py").exists()


async def test_a_file_cell_with_a_syntax_error_is_written_and_points_at_its_line(client, tmp_path):
    events = await run_cell(client, CodeCell(id="f", code="def ok():\n    pass\ndef broken(:\n", line=1, file="m.py"))
    [failed] = [e for e in events if isinstance(e, CellFailed)]
    assert failed.ename == "SyntaxError" and "which was written anyway" in failed.message
    assert failed.line == 3 and [f.lineno for f in failed.frames] == [3]
    assert (tmp_path / "ws" / "m.py").exists()


async def test_rewriting_a_module_file_takes_effect_at_the_next_import(client):
    for value in (1, 2):
        await run_cell(client, CodeCell(id="f", code=f"VALUE = {value}\n", line=1, file="settings_mod.py"))
        out = []
        async for event in client.execute("import settings_mod; print(settings_mod.VALUE)", label="cell 2"):
            if isinstance(event, OutputStreamed):
                out.append(event.text)
        assert "".join(out) == f"{value}\n"
