"""``tutor progress``, ``tutor review`` and progress in ``tutor list``, as a user runs them."""

from __future__ import annotations

import json
import sys
import time

import pytest

from tutor.cli import main
from tutor.progress import ProgressStore
from tutor.review import DAY

LESSON = """\
---
id: basics
title: Basics
---
## One

```quiz
id: q1
question: Shape?
answer: (2, 3)
```

## Two

```python exercise id=e1
x = ...
```

```python check
assert x == 1
```

```python solution
x = 1
```

```quiz
id: q2
question: Word?
answer: relu
```
"""


@pytest.fixture
def course(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "00-basics.md").write_text(LESSON)
    (folder / "01-more.md").write_text(LESSON.replace("id: basics", "id: more").replace("Basics", "More"))
    return folder


@pytest.fixture
def store(tutor_home) -> ProgressStore:
    return ProgressStore.open(tutor_home / "progress.json")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def answer_prompt(monkeypatch, reply: str | None) -> list[str]:
    """Pretend stdin is a terminal where the user types ``reply`` (None: end of input)."""
    asked: list[str] = []

    def fake_input(prompt: str) -> str:
        asked.append(prompt)
        if reply is None:
            raise EOFError
        return reply

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", fake_input)
    return asked


def test_progress_per_lesson(capsys, course, store):
    store.mark_step_seen("basics", "one")
    store.record_quiz_attempt("basics", "q1", "(3, 2)", correct=False)
    store.record_quiz_attempt("basics", "q2", "relu", correct=True)
    store.record_exercise_attempt("basics", "e1", passed=True)
    code, out, err = run(capsys, "progress", "--lessons", str(course))
    assert code == 0 and err == ""
    basics, more = out.splitlines()[:2]
    assert "Basics" in basics and "0/2 steps  quizzes 1/2  exercises 1/1" in basics and "just now" in basics
    assert "More" in more and "0/2 steps" in more and "not started" in more
    assert "Progress file:" in out


def test_progress_mentions_due_reviews_and_foreign_lessons(capsys, course, tutor_home):
    past = ProgressStore.open(tutor_home / "progress.json", clock=lambda: time.time() - 2 * DAY)
    past.record_quiz_attempt("basics", "q1", "x", correct=False)
    past.mark_step_seen("gone", "s")
    code, out, _ = run(capsys, "progress", "--lessons", str(course))
    assert "1 to review now" in out
    assert "not in this course: gone" in out


def test_list_shows_progress(capsys, course, store):
    store.mark_step_seen("more", "two")
    code, out, _ = run(capsys, "list", "--lessons", str(course))
    assert code == 0
    more = next(line for line in out.splitlines() if "More" in line)
    assert "0/2 steps  quizzes 0/2  exercises 0/1" in more
    basics = next(line for line in out.splitlines() if "Basics" in line)
    assert "steps" not in basics


def test_a_corrupt_file_is_reported_by_progress_and_list(capsys, course, tutor_home):
    (tutor_home / "progress.json").write_text("{oops")
    code, out, err = run(capsys, "progress", "--lessons", str(course))
    assert code == 0
    assert "damaged" in err and "progress.json.corrupt-" in err
    [backup] = tutor_home.glob("progress.json.corrupt-*")
    assert backup.read_text() == "{oops"
    (tutor_home / "progress.json").write_text("{oops again")
    code, out, err = run(capsys, "list", "--lessons", str(course))
    assert code == 0 and "damaged" in err


def test_reset_one_lesson_after_asking(capsys, monkeypatch, course, store, tutor_home):
    store.mark_step_seen("basics", "one")
    store.mark_step_seen("more", "one")
    asked = answer_prompt(monkeypatch, "y")
    code, out, _ = run(capsys, "progress", "--lessons", str(course), "--reset", "00")
    assert code == 0 and "Forget all progress in 'Basics'" in asked[0]
    assert "Reset 'Basics'" in out
    fresh = ProgressStore.open(tutor_home / "progress.json")
    assert not fresh.lesson("basics").started and fresh.lesson("more").started
    [backup] = tutor_home.glob("progress.json.before-reset-*")
    assert "basics" in json.loads(backup.read_text())["lessons"]
    assert str(backup) in out


@pytest.mark.parametrize("reply", ["n", "", None])
def test_reset_declined_changes_nothing(capsys, monkeypatch, course, store, tutor_home, reply):
    store.mark_step_seen("basics", "one")
    before = (tutor_home / "progress.json").read_bytes()
    answer_prompt(monkeypatch, reply)
    code, out, _ = run(capsys, "progress", "--lessons", str(course), "--reset")
    assert code == 1 and "Nothing was reset" in out
    assert (tutor_home / "progress.json").read_bytes() == before


def test_reset_everything_with_yes(capsys, course, store, tutor_home):
    store.mark_step_seen("basics", "one")
    store.record_quiz_attempt("more", "q1", "x", correct=False)
    code, out, _ = run(capsys, "progress", "--lessons", str(course), "--reset", "--yes")
    assert code == 0 and "Reset all progress" in out
    fresh = ProgressStore.open(tutor_home / "progress.json")
    assert fresh.lessons() == {} and fresh.reviews() == []


def test_reset_without_a_terminal_needs_yes(capsys, monkeypatch, course, store):
    store.mark_step_seen("basics", "one")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    code, _, err = run(capsys, "progress", "--lessons", str(course), "--reset", "basics")
    assert code == 2 and "add --yes" in err
    assert store.lesson("basics").started


def test_reset_of_an_unknown_lesson(capsys, course):
    code, _, err = run(capsys, "progress", "--lessons", str(course), "--reset", "nope", "--yes")
    assert code == 2 and "no lesson 'nope'" in err


def test_reset_of_a_lesson_only_in_the_progress_file(capsys, course, store):
    store.mark_step_seen("gone", "s")
    code, out, _ = run(capsys, "progress", "--lessons", str(course), "--reset", "gone", "--yes")
    assert code == 0 and not store.lesson("gone").started


def test_export_then_import_on_another_machine(capsys, monkeypatch, tmp_path, course, store):
    store.record_quiz_attempt("basics", "q1", "(2, 3)", correct=True)
    exported = tmp_path / "moving.json"
    code, out, _ = run(capsys, "progress", "--export", str(exported))
    assert code == 0 and "1 lesson" in out

    other_home = tmp_path / "other-home"
    monkeypatch.setenv("TUTOR_HOME", str(other_home))
    ProgressStore.open().mark_step_seen("more", "one")
    code, out, _ = run(capsys, "progress", "--import", str(exported))
    assert code == 0 and "Merged the progress of 1 lesson" in out
    merged = ProgressStore.open()
    assert merged.lesson("basics").quizzes["q1"].correct and merged.lesson("more").started


def test_export_to_stdout(capsys, store):
    store.mark_step_seen("basics", "one")
    code, out, _ = run(capsys, "progress", "--export", "-")
    assert code == 0 and json.loads(out)["lessons"]["basics"]["steps"]


@pytest.mark.parametrize("content, message", [("not json", "not valid JSON"),
                                               ('{"schema_version": 7}', "newer tutor")])
def test_import_of_a_bad_file_is_one_line_and_changes_nothing(capsys, tmp_path, store, tutor_home, content, message):
    store.mark_step_seen("basics", "one")
    before = (tutor_home / "progress.json").read_bytes()
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, _, err = run(capsys, "progress", "--import", str(bad))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert (tutor_home / "progress.json").read_bytes() == before


def test_export_to_a_folder_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "progress", "--export", str(tmp_path))
    assert code == 2 and "is a folder" in err


def test_only_one_action_at_a_time(capsys):
    with pytest.raises(SystemExit):
        main(["progress", "--export", "a.json", "--import", "b.json"])
    assert "not allowed with" in capsys.readouterr().err


def test_review_lists_what_is_due(capsys, course, tutor_home):
    past = ProgressStore.open(tutor_home / "progress.json", clock=lambda: time.time() - 2 * DAY)
    past.record_quiz_attempt("basics", "q1", "x", correct=False)
    ProgressStore.open(tutor_home / "progress.json").reveal_solution("more", "e1")
    code, out, _ = run(capsys, "review", "--lessons", str(course))
    assert code == 0
    assert "1 to review now:" in out and "Basics: quiz q1" in out
    assert "1 more later (the next in 1 day)" in out
    code, out, _ = run(capsys, "review", "--lessons", str(course), "--all")
    assert "More: exercise e1 (box 1, in 1 day)" in out


def test_review_with_nothing_scheduled(capsys, course):
    code, out, _ = run(capsys, "review", "--lessons", str(course))
    assert code == 0 and "Nothing to review" in out
