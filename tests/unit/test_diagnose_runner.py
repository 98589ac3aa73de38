"""The diagnosis in ``tutor run`` and the runner: advice printed as ``advice:`` lines at
the lesson file's line; a cell marked ``diagnose=KIND`` must get that advice; in
selftest mode the lesson's own code must get no other (no false alarms); and
``diagnose=off`` silences a cell. A real worker without torch (prewarm off): the
static half of the diagnosis needs none."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from tutor.cli import main
from tutor.lessons.catalog import load_lesson
from tutor.runner import AdviceNoted, run_lesson

pytestmark = pytest.mark.timeout(120)

LESSON = """\
---
id: advice-demo
title: Advice demo
---

## Cells

```python {info}
class Model:
    def forward(self, x):
        return x * 2

model = Model()
print(model.forward(3))
```

```python
print(model(3) if callable(model) else "fine")
```

## Exercise

```python exercise
result = ...
```

```python check
assert result == 6
```

```python solution
result = model.forward(3)
```
"""


def lesson_file(tmp_path, info: str = "", solution_info: str = ""):
    text = LESSON.replace("```python {info}", f"```python {info}".rstrip())
    if solution_info:
        text = text.replace("```python exercise", f"```python exercise {solution_info}")
    path = tmp_path / "01-advice.md"
    path.write_text(textwrap.dedent(text))
    return path


def run(path, mode: str):
    events = []
    lesson = load_lesson(path)
    result = asyncio.run(run_lesson(lesson, mode=mode, timeout=60, on_event=events.append,
                                    workdir=path.parent / "ws"))
    return result, [e for e in events if isinstance(e, AdviceNoted)]


def test_tutor_run_prints_advice_at_the_files_line_and_passes(tmp_path, capsys):
    path = lesson_file(tmp_path)
    assert main(["run", str(path), "--solutions"]) == 0
    out = capsys.readouterr().out
    advice = [line for line in out.splitlines() if line.startswith("advice: ")]
    assert advice[0].startswith(f"advice: {path}:14: `model.forward(3)` calls `forward` directly.")
    assert "Fix: write `model(3)`." in advice[0]
    assert len(advice) == 2  # the cell, and the exercise's solution (line 32)
    assert advice[1].startswith(f"advice: {path}:32: ")


def test_selftest_fails_on_advice_the_lesson_does_not_expect(tmp_path):
    result, noted = run(lesson_file(tmp_path), "selftest")
    failures = {r.kind: r.message for r in result.failures}
    assert set(failures) == {"cell", "solution"}
    assert "advice the lesson does not expect (a false alarm, or mark the cell diagnose=forward-call)" \
        in failures["cell"]
    assert [n.block_id for n in noted][:1] == [result.results[0].block_id]


def test_a_mistake_shown_on_purpose_passes_when_noticed_and_fails_when_not(tmp_path):
    result, _ = run(lesson_file(tmp_path, "diagnose=forward-call", "diagnose=forward-call"), "selftest")
    assert result.ok, [r.message for r in result.failures]
    assert result.results[0].advice == ("forward-call",)
    wrong, _ = run(lesson_file(tmp_path, "diagnose=zero-grad", "diagnose=forward-call"), "solutions")
    [failure] = wrong.failures
    assert failure.message == "the lesson marks this cell diagnose=zero-grad, but the tutor gave no 'zero-grad' advice"


def test_numerical_advice_marked_on_a_cell_may_come_and_need_not(tmp_path):
    result, _ = run(lesson_file(tmp_path, "diagnose=forward-call|loss-flat", "diagnose=forward-call"), "selftest")
    assert result.ok, [r.message for r in result.failures]


def test_diagnose_off_silences_a_cell(tmp_path):
    result, noted = run(lesson_file(tmp_path, "diagnose=off", "diagnose=off"), "selftest")
    assert result.ok and noted == []
