"""The two block kinds that reach outside the namespace: ``python file=PATH`` cells
(written into the lesson's workspace) and ``sh`` cells (shell commands), as the parser
and ``tutor check`` see them."""

from __future__ import annotations

import textwrap

import pytest

from tutor.lessons import CodeCell, Exercise, parse_text
from tutor.lessons.model import workspace_path_problem


def parse(body: str):
    source = "---\nid: demo\ntitle: Demo\n---\n\n## Step\n\n" + textwrap.dedent(body).lstrip("\n")
    return parse_text(source, "lesson.md")


def errors_of(body: str) -> list[str]:
    return [f"{e.line}: {e.message}" for e in parse(body).errors]


def only_block(body: str):
    result = parse(body)
    assert result.ok, result.errors
    [block] = [b for b in result.lesson.blocks() if isinstance(b, (CodeCell, Exercise))]
    return block


def test_a_file_cell_keeps_its_path_and_is_checked_as_python():
    cell = only_block("""
        ```python file=going_modular/engine.py id=engine
        def train_step():
            return 1
        ```
    """)
    assert (cell.id, cell.file, cell.language) == ("engine", "going_modular/engine.py", "python")
    assert cell.code.startswith("def train_step")
    assert errors_of("""
        ```python file=going_modular/engine.py
        def broken(:
        ```
    """) == ["9: Python syntax error in 'code' block: invalid syntax"]


def test_a_plain_cell_has_no_file_and_is_python():
    cell = only_block("```python\nx = 1\n```\n")
    assert (cell.file, cell.language) == (None, "python")


def test_a_shell_cell_is_a_runnable_cell_and_its_text_is_not_python():
    cell = only_block("""
        ```sh id=train
        python train.py --epochs 3 && ls models/
        ```
    """)
    assert isinstance(cell, CodeCell)
    assert (cell.id, cell.language, cell.file) == ("train", "sh", None)
    assert cell.code == "python train.py --epochs 3 && ls models/\n"
    # Shell syntax that is not Python is fine; the cell is not shown as prose either.
    result = parse("```sh\nif [ -f x ]; then echo yes; fi\n```\n")
    assert result.ok
    assert result.lesson.steps[0].blocks == (result.lesson.cells()[0],)


def test_a_shell_cell_may_be_meant_to_fail():
    cell = only_block("```sh raises=ShellCommandError\nfalse\n```\n")
    assert cell.raises == "ShellCommandError"


@pytest.mark.parametrize("path", [
    "../outside.py", "going_modular/../../outside.py", "/etc/passwd", "~/x.py", "C:/x.py",
    "a//b.py", "./a.py", "a/./b.py", "a\\b.py", "a/", "..",
])
def test_a_file_cell_that_leaves_the_workspace_is_rejected(path):
    assert workspace_path_problem(path)
    errors = errors_of(f"```python file={path}\nx = 1\n```\n")
    assert len(errors) == 1 and errors[0].startswith("8: file=")


@pytest.mark.parametrize("path", ["engine.py", "going_modular/engine.py", "a/b/c/d.py", "data_setup.py",
                                  ".hidden/x.py", "models/v2.0/x.py"])
def test_paths_inside_the_workspace_are_accepted(path):
    assert workspace_path_problem(path) is None
    assert only_block(f"```python file={path}\nx = 1\n```\n").file == path


def test_tutor_check_reports_an_escaping_file_cell_with_its_line(tmp_path):
    from tutor.lessons.catalog import check_paths

    lesson = tmp_path / "01-escape.md"
    lesson.write_text("---\nid: escape\ntitle: Escape\n---\n\n## Step\n\n"
                      "```python file=../../.bashrc\nprint('gotcha')\n```\n")
    [result] = check_paths([lesson])
    assert not result.ok
    assert [str(e) for e in result.errors] == [
        f"{lesson}:8: file='../../.bashrc' leaves the lesson's workspace ('..'): write a path inside it"]


def test_a_file_cell_is_written_not_run_so_raises_does_not_apply():
    assert errors_of("```python file=x.py raises=ValueError\nx = 1\n```\n") == [
        "8: a file= cell is written to its file, not run: 'raises' does not apply"]


def test_a_file_exercise_keeps_its_path():
    exercise = only_block("""
        ```python exercise file=going_modular/utils.py id=save-model
        def save_model(model, path):
            ...
        ```

        ```python check
        import going_modular.utils
        ```

        ```python solution
        def save_model(model, path):
            pass
        ```
    """)
    assert isinstance(exercise, Exercise)
    assert (exercise.file, exercise.language) == ("going_modular/utils.py", "python")


def test_a_shell_exercise_has_a_python_check_and_a_shell_solution():
    exercise = only_block("""
        ```sh exercise id=run-it
        python train.py --epochs ...
        ```

        ```python check
        from pathlib import Path
        assert Path("models/model.pth").exists()
        ```

        ```sh solution
        python train.py --epochs 2
        ```

        ```hint
        Replace the dots with a number.
        ```
    """)
    assert (exercise.id, exercise.language, exercise.file) == ("run-it", "sh", None)
    assert exercise.solution == "python train.py --epochs 2\n"
    assert "Path(" in exercise.check and len(exercise.hints) == 1


def test_a_shell_exercise_needs_a_shell_solution_and_a_python_check():
    errors = errors_of("""
        ```sh exercise
        ls
        ```

        ```sh check
        test -f x
        ```

        ```python solution
        print(1)
        ```
    """)
    assert errors[:2] == ["8: exercise has no 'python check' block after it",
                          "8: exercise has no 'sh solution' block after it"]
    assert errors[2].startswith("12: 'sh check' is not a block type: checks are Python ('python check')")
    assert errors[3] == "16: the exercise at line 8 is a 'sh' block: write its solution as 'sh solution'"


@pytest.mark.parametrize("info, message", [
    ("sh file=x.sh", "8: unknown attribute 'file' (known: id, raises)"),
    ("sh setup", "8: 'sh setup' is not a block type: hidden setup is Python ('python setup')"),
    ("sh exercize", "8: unknown block type 'sh exercize' (did you mean 'exercise'?)"),
    ("sh solution", "8: 'sh solution' block with no exercise before it"),
])
def test_shell_info_strings_that_make_no_sense_are_reported(info, message):
    assert errors_of(f"```{info}\nls\n```\n") == [message]


def test_a_python_exercise_with_a_shell_solution_is_reported():
    errors = errors_of("""
        ```python exercise
        x = ...
        ```

        ```python check
        assert x == 1
        ```

        ```sh solution
        echo 1
        ```
    """)
    assert errors == ["8: exercise has no 'python solution' block after it",
                      "16: the exercise at line 8 is a 'python' block: write its solution as 'python solution'"]
