"""``tutor check``: quizzes graded against themselves; ``--run`` proves every exercise."""

from __future__ import annotations

import pytest

from tutor.cli import main

GOOD = """\
---
id: tiny
title: Tiny
---
## Step

```quiz
question: Shape of a 2 by 3 matrix?
answer: (2, 3)
```

```python
base = 1
```

```python exercise id=add
total = ...
```

```python check
assert total == base + 1, "total should be base + 1"
```

```python solution
total = base + 1
```
"""


def write(tmp_path, text: str, name: str = "00-tiny.md"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_quiz_that_accepts_anything_is_a_problem(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("answer: (2, 3)", "answer: 0.5\ntolerance: 1000"))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:7: quiz 'step-quiz1': every other answer tried is accepted too" in out
    assert out.strip().endswith("1 problem in 1 of 1 lesson file")


def test_sound_quizzes_pass_the_plain_check(tmp_path, capsys):
    assert main(["check", str(write(tmp_path, GOOD))]) == 0
    assert capsys.readouterr().out.strip() == "1 lesson file OK"


@pytest.mark.slow
def test_run_proves_each_exercise(tmp_path, capsys):
    assert main(["check", "--run", "--timeout", "60", str(write(tmp_path, GOOD))]) == 0
    out = capsys.readouterr().out
    assert "ran 00-tiny.md: 3 blocks, 1 exercise, ok" in out
    assert out.strip().endswith("1 lesson file OK (every starter fails its check, every solution passes)")


@pytest.mark.slow
def test_run_reports_a_starter_that_already_passes_and_a_broken_solution(tmp_path, capsys):
    lesson = GOOD.replace("total = ...", "total = 2").replace("total = base + 1\n```", "total = base + 2\n```")
    path = write(tmp_path, lesson)
    assert main(["check", "--run", "--timeout", "60", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}:16: starter of add: the starter passes its check" in out
    assert f"{path}:21: solution of add: total should be base + 1" in out
    assert out.strip().endswith("2 problems in 1 of 1 lesson file")


def test_negative_timeout_is_a_user_error(tmp_path, capsys):
    assert main(["check", "--run", "--timeout", "-1", str(write(tmp_path, GOOD))]) == 2
    assert "--timeout" in capsys.readouterr().err
