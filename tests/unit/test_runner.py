"""The headless runner (tutor.runner) and ``tutor run``, on a small lesson written
here. The runner tests share one worker without torch (prewarm off)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.lessons.catalog import load_lesson
from tutor.runner import BlockFinished, BlockStarted, CellResult, CheckStarted, describe_failure, run_lesson, try_answer
from tutor.sandbox.events import CellStarted, OutputStreamed
from tutor.sandbox.client import SandboxClient

pytestmark = pytest.mark.timeout(120)

LESSON = """\
---
id: runner-demo
title: Runner demo
---

## Cells

```python setup
base = 10
```

```python
value = base + 1
print(value)
from tutor import live
for i in range(3):
    live.log(step=i, loss=1 / (i + 1))
```

```python raises=ZeroDivisionError
1 / 0
```

## Exercise

```python exercise id=double
doubled = ...
```

```python check
assert doubled == 22, "doubled should be 22"
```

```python solution
doubled = value * 2
```
"""


def write(tmp_path: Path, text: str, name: str = "01-demo.md") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.fixture
async def client(tmp_path):
    client = SandboxClient(workdir=tmp_path / "ws", prewarm=False, interrupt_grace=0.5)
    yield client
    await client.shutdown()


async def test_solutions_pass_with_output_and_charts(tmp_path, client):
    path = write(tmp_path, LESSON)
    events = []
    run = await run_lesson(load_lesson(path), mode="solutions", client=client, on_event=events.append)
    assert run.ok, [describe_failure(r) for r in run.failures]
    assert [(r.block_id, r.kind) for r in run.results] == [
        ("cells-cell1", "cell"), ("cells-cell2", "cell"), ("double", "exercise")]
    first = run.results[0]
    assert first.output == "11\n" and "loss" in first.charts[0]
    assert run.results[1].message == "raised ZeroDivisionError, as it should"
    assert [e.kind for e in events if isinstance(e, BlockStarted)] == ["setup", "cell", "cell", "exercise"]
    assert sum(isinstance(e, BlockFinished) for e in events) == 3


TRAINS_TWICE = """\
---
id: twice
title: Trains twice
---

## Train

```python exercise id=fit
def fit(data):
    for epoch in range(1, 3):
        print(f"epoch {epoch}")
    return sum(data)


total = fit([1, 2])
```

```python check
from tutor.checks import train_blind

assert train_blind(fit, [4, 5], hidden=("total",), name="fit") == 9
```

```python solution
def fit(data):
    for epoch in range(1, 3):
        print(f"epoch {epoch}")
    return sum(data)


total = fit([1, 2])
```
"""


async def test_a_checks_output_comes_after_it_says_it_started(tmp_path, client):
    """A check that trains the learner's function again prints its epochs again: the
    runner says where the check starts, so that a reader can tell the two apart."""
    path = write(tmp_path, TRAINS_TWICE)
    events = []
    run = await run_lesson(load_lesson(path), mode="solutions", client=client, on_event=events.append)
    assert run.ok, [describe_failure(r) for r in run.failures]
    [check] = [i for i, e in enumerate(events) if isinstance(e, CheckStarted)]
    assert events[check] == CheckStarted("fit", f"{path}:{line_of(path, 'python check')}")
    printed = [(i, e.text) for i, e in enumerate(events) if isinstance(e, OutputStreamed)]
    assert "".join(t for i, t in printed if i < check) == "epoch 1\nepoch 2\n"  # the code's
    assert "".join(t for i, t in printed if i > check) == "epoch 1\nepoch 2\n"  # the check's


def test_tutor_run_prints_a_checks_output_under_its_own_heading(capsys):
    from tutor.commands.run import Printer

    printer = Printer(quiet=False)
    result = CellResult("fit", "exercise", "l.md:8", "ok", True, "", "")
    for event in (BlockStarted("fit", "exercise", "l.md:8"), CellStarted(1), OutputStreamed(1, "stdout", "epoch 1\n"),
                  CheckStarted("fit", "l.md:18"), CellStarted(2), OutputStreamed(2, "stdout", "epoch 1\n"),
                  OutputStreamed(2, "stdout", "epoch 2\n"), BlockFinished(result),
                  BlockStarted("quiet", "exercise", "l.md:30"), CheckStarted("quiet", "l.md:40"), BlockFinished(result)):
        printer(event)
    assert capsys.readouterr().out.splitlines() == [
        "── exercise fit (l.md:8)", "epoch 1",
        "── check of fit (l.md:18)", "epoch 1", "epoch 2", "   ok",
        "── exercise quiet (l.md:30)", "   ok"]  # a check that prints nothing has no heading


async def test_starters_fail_at_the_check_line(tmp_path, client):
    path = write(tmp_path, LESSON)
    run = await run_lesson(load_lesson(path), mode="starters", client=client)
    (failure,) = run.failures
    assert failure.block_id == "double" and failure.status == "error"
    assert failure.location == f"{path}:{line_of(path, 'assert doubled == 22')}"
    assert describe_failure(failure) == (f"{path}:{line_of(path, 'assert doubled')}: exercise double: "
                                         "doubled should be 22")


async def test_selftest_proves_the_exercise(tmp_path, client):
    path = write(tmp_path, LESSON)
    run = await run_lesson(load_lesson(path), mode="selftest", client=client)
    assert run.ok
    starter, solution = run.results[-2:]
    assert (starter.kind, solution.kind) == ("starter", "solution")
    assert starter.message == "fails as it should: doubled should be 22"


async def test_selftest_catches_dishonest_exercises(tmp_path, client):
    broken = LESSON.replace("doubled = ...", "doubled = 22").replace("doubled = value * 2", "doubled = value * 3")
    path = write(tmp_path, broken)
    run = await run_lesson(load_lesson(path), mode="selftest", client=client)
    starter, solution = run.failures
    assert starter.message == "the starter passes its check: the exercise is already solved"
    assert solution.kind == "solution" and solution.message == "doubled should be 22"
    assert solution.location.endswith(f":{line_of(path, 'assert doubled')}")


async def test_errors_and_wrong_raises_name_the_line(tmp_path, client):
    text = LESSON.replace("print(value)", "print(value)\nprint(missing)").replace("raises=ZeroDivisionError", "raises=KeyError")
    path = write(tmp_path, text)
    run = await run_lesson(load_lesson(path), mode="solutions", client=client)
    first, second = run.failures[:2]
    assert first.location == f"{path}:{line_of(path, 'print(missing)')}"
    assert first.message.startswith("NameError: name 'missing' is not defined")
    assert second.message.startswith("expected KeyError, but it raised ZeroDivisionError")


async def test_a_crash_skips_what_follows(tmp_path, client):
    path = write(tmp_path, LESSON.replace("print(value)", "import os; os._exit(4)"))
    run = await run_lesson(load_lesson(path), mode="solutions", client=client)
    crash, *rest = run.failures
    assert crash.status == "crashed" and "code 4" in crash.message
    assert [r.status for r in rest] == ["skipped", "skipped"]


async def test_timeout_per_cell(tmp_path, client):
    path = write(tmp_path, LESSON.replace("print(value)", "import time; time.sleep(30)"))
    run = await run_lesson(load_lesson(path), mode="solutions", client=client, timeout=0.5)
    failure = run.failures[0]
    assert failure.status == "timeout" and failure.location.endswith(f":{line_of(path, 'time.sleep(30)')}")
    assert "Stopped after 0.5 s" in failure.message


async def test_stop_before_runs_up_to_an_exercise_then_answers_are_graded_there(tmp_path, client):
    lesson = load_lesson(write(tmp_path, LESSON.replace("doubled = ...", "doubled = ...\nbase = -1")))
    run = await run_lesson(lesson, mode="solutions", client=client, stop_before="double")
    assert run.ok and [r.block_id for r in run.results] == ["cells-cell1", "cells-cell2"]
    right = await try_answer(client, lesson, "double", "doubled = value + value")
    assert right.ok and right.kind == "exercise" and right.message == ""
    wrong = await try_answer(client, lesson, "double", "doubled = base * 2")
    assert not wrong.ok and wrong.message == "doubled should be 22"
    crashing = await try_answer(client, lesson, "double", "doubled = 1 / 0")
    assert not crashing.ok and crashing.message.startswith("ZeroDivisionError")
    with pytest.raises(ValueError, match="no exercise 'cells-cell1'"):
        await try_answer(client, lesson, "cells-cell1", "pass")


async def test_stop_before_runs_the_setup_of_the_block_it_stops_at(tmp_path, client):
    text = LESSON.replace("## Exercise\n", "## Exercise\n\n```python setup\nhidden = 5\n```\n")
    lesson = load_lesson(write(tmp_path, text))
    run = await run_lesson(lesson, mode="solutions", client=client, stop_before="double")
    assert run.ok
    assert (await try_answer(client, lesson, "double", "doubled = hidden * 4 + 2")).ok


async def test_stop_before_an_unknown_block_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no cell or exercise 'nowhere'"):
        await run_lesson(load_lesson(write(tmp_path, LESSON)), stop_before="nowhere")


async def test_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown mode"):
        await run_lesson(load_lesson(write(tmp_path, LESSON)), mode="everything")


@pytest.mark.slow  # two workers that import torch
def test_tutor_run_command(tmp_path, capsys):
    path = write(tmp_path, LESSON)
    assert main(["run", str(path), "--solutions"]) == 0
    out = capsys.readouterr().out
    assert "── cell cells-cell1" in out and "11\n" in out and "loss" in out
    assert out.rstrip().endswith("runner-demo: all 3 passed (solutions)")
    assert main(["run", str(path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert f"{path}:{line_of(path, 'assert doubled')}: exercise double: doubled should be 22" in out
    assert "── cell" not in out


SEEDED = """\
---
id: seeded
title: Seeded
---

## Random

```python
import torch
torch.manual_seed(5)
a = torch.rand(3)
b = torch.rand(2, generator=torch.Generator().manual_seed(5))
print("numbers", a.tolist(), b.tolist(), "threads", torch.get_num_threads())
```
"""


@pytest.mark.slow  # workers that import torch
def test_perturb_shifts_every_torch_seed_and_changes_the_thread_count(tmp_path, capsys):
    path = write(tmp_path, SEEDED)
    assert main(["run", str(path), "--perturb", "3"]) == 0
    perturbed = capsys.readouterr().out
    assert "perturbed: every torch seed shifted by 3" in perturbed
    assert perturbed.rstrip().endswith("seeded: all 1 passed (starters, perturbed by 3)")
    assert main(["run", str(write(tmp_path, SEEDED.replace("manual_seed(5)", "manual_seed(8)"), "02-b.md"))]) == 0
    plain = capsys.readouterr().out
    assert "perturbed" not in plain

    def numbers(out: str) -> tuple[str, int]:
        line = next(line for line in out.splitlines() if line.startswith("numbers"))
        values, _, threads = line.rpartition(" threads ")
        return values, int(threads)

    assert numbers(perturbed)[0] == numbers(plain)[0]  # seed 5 + 3 draws what seed 8 draws
    assert numbers(perturbed)[1] != numbers(plain)[1]


@pytest.mark.slow  # imports torch
def test_perturb_shifts_a_device_seed_once_even_through_torch_manual_seed(tmp_path):
    import subprocess
    import sys

    script = (
        "import torch\n"
        "seen = []\n"
        "torch.cuda.manual_seed_all = lambda s: seen.append(('cuda', s))\n"
        "torch.cuda.manual_seed = lambda s: seen.append(('cuda one', s))\n"
        "torch.mps.manual_seed = lambda s: seen.append(('mps', s))\n"
        "from tutor.sandbox import perturb\n"
        "perturb.apply(3)\n"
        "torch.manual_seed(5)\n"
        "torch.cuda.manual_seed_all(7); torch.cuda.manual_seed(8); torch.mps.manual_seed(9)\n"
        "print(seen, torch.initial_seed())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ("[('cuda', 8), ('mps', 8), ('cuda', 10), ('cuda one', 11), ('mps', 12)] 8")


def test_perturb_helpers():
    from tutor.sandbox.perturb import other_thread_count, shifted

    assert shifted(5, 3) == 8 and shifted(2**64 - 1, 2) == 1 and shifted(True, 1) == 2
    assert other_thread_count(2, 2) == 1 and other_thread_count(8, 16) == 1
    assert other_thread_count(1, 1) == 2 and other_thread_count(1, 16) == 4


@pytest.mark.parametrize("args, message", [
    (["--solutions", "--selftest"], "choose one of --solutions and --selftest"),
    (["--memory-limit", "lots"], "cannot read 'lots' as a size"),
    (["--timeout", "-1"], "--timeout must be 0"),
])
def test_tutor_run_bad_arguments(tmp_path, capsys, args, message):
    assert main(["run", str(write(tmp_path, LESSON)), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tutor: ") and message in err and "Traceback" not in err


def test_tutor_run_perturb_must_be_a_whole_number(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["run", str(write(tmp_path, LESSON)), "--perturb", "one"])
    assert exit.value.code == 2 and "--perturb: invalid int value: 'one'" in capsys.readouterr().err
