"""Reference curves ("ghosts"): recorded from a lesson's run, saved beside it, checked
against the lesson (stale or unknown cells are reported, never a crash), and turned
into the ghost a chart draws."""

from __future__ import annotations

import json
import math
import textwrap

import pytest

from tutor import curves
from tutor.cli import main
from tutor.lessons import parse_file

LESSON = """
---
id: demo
title: Demo
---

## Train

```python setup
from tutor import live
```

```python
for step in range(5):
    live.log(step=step, loss=1.0 / (step + 1))
```

```python exercise
...
```

```python check
assert True
```

```python solution
for step in range(3):
    live.log(loss=3.0 - step)
```

## Other

```python
print("no chart here")
```
"""


@pytest.fixture
def lesson(tmp_path):
    path = tmp_path / "07-demo.md"
    path.write_text(textwrap.dedent(LESSON).lstrip())
    result = parse_file(path)
    assert result.ok, result.errors
    return result.lesson


def save(lesson_path, found):
    """What ``tutor check --record-curves`` writes."""
    path = curves.sidecar_path(lesson_path)
    path.write_text(curves.to_json(found))
    return path


def recorded(lesson) -> curves.Curves:
    recorder = curves.Recorder()
    recorder.worker_ready("cuda:0", "NVIDIA H200", "2.11.0")
    cell, exercise = lesson.cells()[0], lesson.exercises()[0]
    recorder.block_started("setup@8")
    recorder.metrics([(None, {"ignored": 1.0})])
    recorder.block_started(cell.id)
    recorder.metrics([(step, {"loss": 1.0 / (step + 1)}) for step in range(5)])
    recorder.block_started(exercise.id)
    recorder.metrics([(None, {"loss": 3.0}), (None, {"loss": 2.0, "acc": 0.5})])
    recorder.metrics([(None, {"loss": float("nan")})])
    return recorder.curves(lesson)


def test_a_recording_keeps_each_blocks_metrics_and_its_device(lesson):
    found = recorded(lesson)
    cell, exercise = lesson.cells()[0], lesson.exercises()[0]
    assert set(found.curves) == {cell.id, exercise.id}  # the setup's points belong to no block
    assert found.curves[cell.id].metrics["loss"][-1] == (4.0, 0.2)
    assert found.curves[exercise.id].metrics["loss"][:2] == ((0.0, 3.0), (1.0, 2.0))  # steps counted
    assert found.curves[exercise.id].metrics["acc"] == ((1.0, 0.5),)
    assert found.curves[cell.id].code == curves.code_hash(cell.code)
    assert found.curves[exercise.id].code == curves.code_hash(exercise.solution)
    assert found.label == "cuda:0 (NVIDIA H200)"


def test_saved_and_loaded_back(lesson):
    found = recorded(lesson)
    path = save(lesson.path, found)
    assert path == lesson.path.with_name("07-demo.curves.json")
    back = curves.load(lesson.path)
    assert back.device == "cuda:0" and back.torch == "2.11.0"
    cell = lesson.cells()[0].id
    assert back.curves[cell].code == found.curves[cell].code
    flat = [v for point in found.curves[cell].metrics["loss"] for v in point]
    assert [v for point in back.curves[cell].metrics["loss"] for v in point] == pytest.approx(flat, rel=1e-5)
    nan = back.curves[lesson.exercises()[0].id].metrics["loss"][-1]
    assert nan[0] == 2.0 and math.isnan(nan[1])  # a gap, kept as a gap
    assert curves.problems(lesson, back) == []


def test_long_runs_are_thinned_keeping_the_last_point(lesson):
    recorder = curves.Recorder()
    recorder.block_started(lesson.cells()[0].id)
    recorder.metrics([(step, {"loss": float(step)}) for step in range(10_000)])
    points = recorder.curves(lesson).curves[lesson.cells()[0].id].metrics["loss"]
    assert len(points) == curves.MAX_POINTS and points[0] == (0.0, 0.0) and points[-1] == (9999.0, 9999.0)


def test_no_file_means_no_ghosts(lesson):
    assert curves.load(lesson.path) is None
    assert curves.ghost_for(None, lesson.cells()[0], None) is None


@pytest.mark.parametrize("text, words", [
    ("{not json", "not a reference-curves file"),
    ('{"format": 99, "curves": {}}', "format 99"),
    ('{"format": 1, "lesson": "demo", "device": "cpu", "curves": {"x": {"code": "c", "metrics": {}}}}',
     "has no metrics"),
    ('{"format": 1, "lesson": "demo", "device": "cpu", "curves": {"x": {"code": "c", "metrics": {"a": [[1]]}}}}',
     "not a reference-curves file"),
    ("[]", "expected a JSON object"),
])
def test_a_broken_file_is_a_message(lesson, text, words):
    curves.sidecar_path(lesson.path).write_text(text)
    with pytest.raises(curves.CurvesError, match=words):
        curves.load(lesson.path)


def test_a_lessons_ghosts_are_read_once_and_a_broken_file_is_a_problem_not_an_error(lesson):
    assert curves.LessonGhosts(lesson.path).problem == ""  # no file: no ghosts, no problem
    assert curves.LessonGhosts(lesson.path).ghost(lesson.cells()[0], None) is None
    save(lesson.path, recorded(lesson))
    ghosts = curves.LessonGhosts(lesson.path)
    curves.sidecar_path(lesson.path).unlink()  # read once: what was read stays
    cell = lesson.cells()[0]
    ghost = ghosts.ghost(cell, cell.code)
    assert ghosts.problem == "" and ghost.device == "cuda:0 (NVIDIA H200)" and ghost.note is None
    assert [x for x, _ in ghost.metrics["loss"]] == [0, 1, 2, 3, 4]
    assert ghosts.ghost(cell, "x = 1").note == "reference: the lesson's settings, not your changes"
    curves.sidecar_path(lesson.path).write_text("{not json")
    broken = curves.LessonGhosts(lesson.path)
    assert "not a reference-curves file" in broken.problem and broken.ghost(cell, None) is None


def test_a_changed_cell_makes_its_curve_stale_and_hidden(lesson, tmp_path):
    save(lesson.path, recorded(lesson))
    changed = lesson.path.read_text().replace("range(5)", "range(50)")
    lesson.path.write_text(changed + "\n")
    edited = parse_file(lesson.path).lesson
    found = curves.load(edited.path)
    [(line, message)] = curves.problems(edited, found)
    assert line == edited.cells()[0].line
    assert "earlier version of this cell" in message and f"--run --record-curves {edited.path}" in message  # a path that works from here
    assert curves.ghost_for(found, edited.cells()[0], None) is None
    assert curves.ghost_for(found, edited.exercises()[0], None) is not None  # the others still show


def test_whitespace_at_the_ends_does_not_make_a_curve_stale():
    assert curves.code_hash("x = 1\n") == curves.code_hash("\nx = 1   \n\n")
    assert curves.code_hash("x = 1\n") != curves.code_hash("x = 2\n")


def test_curves_of_a_cell_that_is_gone_or_of_another_lesson_are_reported(lesson):
    found = recorded(lesson)
    data = json.loads(curves.to_json(found))
    data["lesson"] = "other"
    data["curves"]["gone-cell"] = data["curves"][lesson.cells()[0].id]
    curves.sidecar_path(lesson.path).write_text(json.dumps(data))
    messages = [m for _, m in curves.problems(lesson, curves.load(lesson.path))]
    assert any("lesson 'other', not 'demo'" in m for m in messages)
    assert any("'gone-cell', which is not a cell of this lesson" in m for m in messages)


def test_the_ghost_says_when_the_learner_changed_the_cell(lesson):
    found = recorded(lesson)
    cell = lesson.cells()[0]
    same = curves.ghost_for(found, cell, cell.code + "\n")
    assert same.note is None and same.metrics["loss"][0] == (0.0, 1.0) and same.device == "cuda:0 (NVIDIA H200)"
    changed = curves.ghost_for(found, cell, cell.code.replace("range(5)", "range(9)"))
    assert changed.metrics == same.metrics
    assert changed.note == "reference: the lesson's settings, not your changes"
    exercise = lesson.exercises()[0]
    assert curves.ghost_for(found, exercise, "loss = my_own_loop()").note == "reference: the lesson's solution"
    assert curves.ghost_for(found, exercise, exercise.solution).note is None


def test_a_run_that_logs_other_metrics_gets_a_note(lesson):
    ghost = curves.ghost_for(recorded(lesson), lesson.cells()[0], None)
    assert curves.mismatch(ghost, {"loss", "acc"}) is None
    assert curves.mismatch(ghost, set()) is None
    assert curves.mismatch(ghost, {"train_loss"}) == "no reference: it logged loss, this run train_loss"


def test_tutor_check_reports_stale_curves_at_the_cells_line(lesson, capsys):
    save(lesson.path, recorded(lesson))
    assert main(["check", str(lesson.path)]) == 0
    lesson.path.write_text(lesson.path.read_text().replace("range(5)", "range(6)"))
    assert main(["check", str(lesson.path)]) == 1
    out = capsys.readouterr().out
    assert f"{lesson.path}:{lesson.cells()[0].line}: the reference curves" in out
    curves.sidecar_path(lesson.path).write_text("{broken")
    assert main(["check", str(lesson.path)]) == 1
    assert f"{lesson.path}:1: 07-demo.curves.json is not a reference-curves file" in capsys.readouterr().out


@pytest.mark.slow
def test_record_curves_runs_the_solutions_and_saves_the_training_cells(lesson, capsys):
    assert main(["check", "--record-curves", "--device", "cpu", str(lesson.path)]) == 0
    assert "recorded 07-demo.curves.json: 2 training cells on cpu" in capsys.readouterr().out
    found = curves.load(lesson.path)
    assert found.device == "cpu" and found.torch
    assert found.curves[lesson.exercises()[0].id].metrics["loss"] == ((0.0, 3.0), (1.0, 2.0), (2.0, 1.0))
    assert curves.problems(lesson, found) == []


def test_a_starters_run_is_not_recorded_and_a_block_run_again_starts_afresh(lesson):
    """``tutor check --run --record-curves`` records from the self-test: each exercise's
    starter runs first, then its solution."""
    recorder = curves.Recorder()
    exercise = lesson.exercises()[0]
    recorder.block_started(exercise.id, "starter")
    recorder.metrics([(None, {"loss": 9.0}), (None, {"wrong": 1.0})])
    recorder.block_started(exercise.id, "solution")
    recorder.metrics([(None, {"loss": 3.0})])
    assert recorder.curves(lesson).curves[exercise.id].metrics == {"loss": ((0.0, 3.0),)}
    recorder.block_started(exercise.id, "solution")
    recorder.metrics([(None, {"loss": 2.0})])
    assert recorder.curves(lesson).curves[exercise.id].metrics == {"loss": ((0.0, 2.0),)}


def test_record_curves_with_perturbed_seeds_is_refused(lesson, capsys):
    assert main(["check", "--record-curves", "--perturb", "1", str(lesson.path)]) != 0
    assert "leave out --perturb" in capsys.readouterr().err
    assert curves.load(lesson.path) is None


@pytest.mark.slow
def test_record_curves_with_run_records_the_solutions_of_the_selftest(lesson, capsys):
    lesson.path.write_text(lesson.path.read_text().replace("assert True", "assert step == 2"))  # the starter fails
    assert main(["check", "--run", "--record-curves", "--device", "cpu", str(lesson.path)]) == 0
    out = capsys.readouterr().out
    assert "ran 07-demo.md" in out and "recorded 07-demo.curves.json: 2 training cells on cpu" in out
    found = curves.load(lesson.path)
    assert found.curves[lesson.exercises()[0].id].metrics == {"loss": ((0.0, 3.0), (1.0, 2.0), (2.0, 1.0))}
    assert curves.problems(lesson, found) == []


# -- drawn ----------------------------------------------------------------------------------

def test_a_chart_draws_the_ghost_first_faint_and_labelled():
    from tutor.charts import GHOST_MARKER, ChartData, draw_chart

    ghost = curves.Ghost({"loss": tuple((i, 1 / (i + 1)) for i in range(50))}, "cpu")
    chart = ChartData("log", ghost=ghost)
    chart.add_points(tuple((i, {"loss": 1.5 / (i + 1)}) for i in range(20)))
    text = draw_chart(chart, 72, 18, color=False)
    assert "loss (cpu reference)" in text and GHOST_MARKER in text
    legend = [line for line in text.splitlines() if "loss" in line]
    assert "reference" in legend[0]  # drawn (and listed) first: behind the learner's curve
    coloured = draw_chart(chart, 72, 18, color=True)
    assert "\x1b[38;2;96;96;96m" in coloured  # grey: faint


def test_the_note_and_the_mismatch_show_in_the_charts_title():
    from tutor.charts import ChartData, draw_chart

    ghost = curves.Ghost({"loss": ((0, 1.0), (1, 0.5))}, "cpu", "reference: the lesson's settings, not your changes")
    chart = ChartData("log", ghost=ghost)
    chart.add_points(((0, {"loss": 2.0}), (1, {"loss": 1.0})))
    assert "not your changes" in draw_chart(chart, 72, 18, color=False)
    other = ChartData("log", ghost=ghost)
    other.add_points(((0, {"train_loss": 2.0}), (1, {"train_loss": 1.0})))
    text = draw_chart(other, 100, 18, color=False)
    assert "reference" not in text.split("\n", 1)[1]  # no ghost drawn...
    assert "no reference: it logged loss, this run train_loss" in text  # ...and it says why
    narrow = draw_chart(chart, 40, 10, color=False)
    assert narrow.splitlines()[0].strip().endswith("…")  # a long note is cut, not dropped


def test_a_headless_book_gives_the_ghost_to_its_live_log_chart_only():
    from tutor.charts import ChartBook
    from tutor.sandbox.events import MetricsLogged, PlotUpdated, Series

    ghost = curves.Ghost({"loss": ((0, 1.0), (1, 0.5))}, "cpu")
    book = ChartBook(ghost)
    book.add(MetricsLogged(1, ((0, {"loss": 0.9}), (1, {"loss": 0.4}))))
    book.add(PlotUpdated(1, "line", "fit", (Series("y", (0.0, 1.0), (1.0, 2.0)),)))
    log_chart, plot_chart = book.render()
    assert "loss (cpu reference)" in log_chart and "reference" not in plot_chart


@pytest.mark.slow
def test_tutor_run_draws_the_ghost_in_its_text_charts(lesson, capsys):
    from tutor.charts import GHOST_MARKER

    save(lesson.path, recorded(lesson))
    assert main(["run", str(lesson.path), "--solutions"]) == 0
    out = capsys.readouterr().out
    assert "loss (cuda:0 (NVIDIA H200) reference)" in out and GHOST_MARKER in out
