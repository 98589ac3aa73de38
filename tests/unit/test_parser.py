"""The lesson parser: a valid lesson becomes the model; every mistake is `path:line:`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tutor.lessons import CodeCell, Exercise, Prose, Quiz, parse_file, parse_text

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def parse(source: str):
    return parse_text(textwrap.dedent(source).lstrip("\n"), "lesson.md")


def errors_of(source: str) -> list[tuple[int, str]]:
    return [(e.line, e.message) for e in parse(source).errors]


GOOD = """
---
id: demo
title: A demo lesson
summary: Everything the format has.
minutes: 20
device: any
---

Some introduction.

## First step

Prose with `code` and a table:

| a | b |
|---|---|
| 1 | 2 |

```python
x = 1
print(x)
```

```text
shown, never run
```

```python setup
import math
```

````python id=nested
s = '''
```
not a fence inside a string
```
'''
````

```quiz
question: What is the shape of `torch.zeros(2, 3)`?
answer: (2, 3)
explain: Two rows, three columns.
```

```hint
Count the numbers.
```

## Second step

```python exercise id=make-y
y = ...
```

```hint
Assign a number.
```

```python check
assert y == 2, "y should be 2"
```

```python solution
y = 2
```

```hint
It is two.
```

```quiz
question: Pick the floats
choices: [int64, float32, float64]
answer: [float32, float64]
```

```quiz
question: Will it raise?
choices: [yes, no]
answer: yes
id: will-raise
```

```quiz
question: What is pi to two places?
answer: 3.14
tolerance: 0.005
```

```python raises=ZeroDivisionError
1 / 0
```
"""


def test_valid_lesson_builds_the_model():
    result = parse(GOOD)
    assert result.errors == ()
    lesson = result.lesson
    assert (lesson.id, lesson.title, lesson.minutes, lesson.device) == ("demo", "A demo lesson", 20, "any")
    assert lesson.summary == "Everything the format has."
    assert lesson.intro == "Some introduction."
    assert [s.title for s in lesson.steps] == ["First step", "Second step"]
    assert [s.id for s in lesson.steps] == ["first-step", "second-step"]
    assert lesson.steps[0].line == 11


def test_blocks_keep_order_kinds_and_lines():
    lesson = parse(GOOD).lesson
    first = lesson.steps[0].blocks
    assert [type(b) for b in first] == [Prose, CodeCell, Prose, CodeCell, Quiz]
    assert "| a | b |" in first[0].text
    assert "shown, never run" in first[2].text  # display blocks stay in the prose
    cell = first[1]
    assert cell.id == "first-step-cell1" and cell.code == "x = 1\nprint(x)\n" and cell.line == 19
    nested = first[3]
    assert nested.id == "nested" and "not a fence inside a string" in nested.code
    assert [s.code for s in nested.setup] == ["import math\n"]  # setup attaches to the next cell
    assert cell.setup == ()


def test_exercise_collects_check_solution_and_hints():
    lesson = parse(GOOD).lesson
    (exercise,) = lesson.exercises()
    assert isinstance(exercise, Exercise)
    assert exercise.id == "make-y"
    assert exercise.starter == "y = ...\n"
    assert "assert y == 2" in exercise.check
    assert exercise.solution == "y = 2\n"
    assert [h.text for h in exercise.hints] == ["Assign a number.", "It is two."]
    assert exercise.line == 52 and exercise.check_line == 60 and exercise.solution_line == 64


def test_quiz_kinds():
    quizzes = {q.id: q for q in parse(GOOD).lesson.quizzes()}
    shape = quizzes["first-step-quiz1"]
    assert shape.answer == "(2, 3)" and shape.choices is None and not shape.is_choice
    assert [h.text for h in shape.hints] == ["Count the numbers."]
    multi = quizzes["second-step-quiz1"]
    assert multi.choices == ("int64", "float32", "float64")
    assert multi.answer == ("float32", "float64") and multi.is_multiple
    yes_no = quizzes["will-raise"]
    assert yes_no.answer == "yes" and yes_no.choices == ("yes", "no")  # not the boolean True
    number = quizzes["second-step-quiz3"]  # ids count position, explicit ids included
    assert number.answer == 3.14 and number.tolerance == 0.005


def test_raises_attribute():
    cells = parse(GOOD).lesson.cells()
    assert cells[-1].raises == "ZeroDivisionError"
    assert cells[0].raises is None


def test_raises_names_several_exceptions_when_devices_differ():
    from tutor.lessons.model import raised_as_meant

    lesson = parse("""
        ---
        id: d
        title: D
        ---
        ## S
        ```python raises=RuntimeError|NotImplementedError
        x
        ```
        ```python raises=torch.cuda.OutOfMemoryError
        y
        ```
        """).lesson
    first, second = lesson.cells()
    assert first.raises == "RuntimeError|NotImplementedError"
    assert raised_as_meant(first.raises, "RuntimeError")
    assert raised_as_meant(first.raises, "NotImplementedError")
    assert not raised_as_meant(first.raises, "ValueError")
    assert not raised_as_meant(first.raises, None)
    assert raised_as_meant(second.raises, "OutOfMemoryError")
    assert not raised_as_meant(second.raises, "cuda")


@pytest.mark.parametrize("value, words", [
    ("RuntimeError|", "'' is not an exception name"),
    ("RuntimeError||ValueError", "'' is not an exception name"),
    ("1Error", "'1Error' is not an exception name"),
    ("torch.cuda", "'torch.cuda' does not look like an exception class"),
    ("ValueError|ValueError", "names an exception twice"),
    ("print", "'print' does not look like an exception class"),
])
def test_raises_with_a_bad_name_is_reported_at_its_line(value, words):
    found = errors_of(f"""
        ---
        id: d
        title: D
        ---
        ## S
        ```python raises={value}
        x
        ```
        """)
    assert len(found) == 1 and found[0][0] == 6 and words in found[0][1], found


@pytest.mark.parametrize("value", ["KeyboardInterrupt", "StopIteration", "SystemExit", "torch.OutOfMemoryError",
                                   "RuntimeError|NotImplementedError|torch.AcceleratorError"])
def test_raises_accepts_real_exception_names(value):
    assert errors_of(f"""
        ---
        id: d
        title: D
        ---
        ## S
        ```python raises={value}
        x
        ```
        """) == []


def test_parsing_executes_nothing(tmp_path):
    marker = tmp_path / "ran"
    source = GOOD.replace("x = 1\n", f"open({str(marker)!r}, 'w').write('x')\n", 1)
    assert parse(source).errors == ()
    assert not marker.exists()


# One test per error kind, each asserting the line.

def test_front_matter_not_yaml():
    errs = errors_of("""
        ---
        id: x
        title: [unclosed
        ---

        ## S
        """)
    assert len(errs) == 1
    assert errs[0][0] == 3 and "not valid YAML" in errs[0][1]


@pytest.mark.parametrize("missing", ["id", "title"])
def test_front_matter_missing_key(missing):
    meta = {"id": "id: x", "title": "title: X"}
    del meta[missing]
    source = "---\n" + "\n".join(meta.values()) + "\n---\n\n## S\n"
    errs = [(e.line, e.message) for e in parse_text(source, "l.md").errors]
    assert errs == [(1, f"front matter has no '{missing}'")]


def test_no_front_matter():
    assert errors_of("# Hello\n\n## S\n") == [
        (1, "no front matter: start the file with a '---' block holding at least id and title")
    ]


def test_unknown_front_matter_key_suggests():
    errs = errors_of("""
        ---
        id: x
        title: X
        minuts: 3
        ---

        ## S
        """)
    assert errs == [(4, "unknown front-matter key 'minuts' (did you mean 'minutes'?)")]


def test_quiz_not_a_mapping():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        ## S

        ```quiz
        - one
        ```
        """)
    assert errs == [(8, "quiz must be a YAML mapping with at least 'question' and 'answer'")]


def test_quiz_without_question_and_answer():
    base = """
        ---
        id: x
        title: X
        ---

        ## S

        ```quiz
        {body}
        ```
        """
    assert errors_of(base.format(body="answer: 1")) == [(8, "quiz has no 'question'")]
    assert errors_of(base.format(body="question: Why?")) == [(8, "quiz has no 'answer'")]


def test_quiz_answer_not_among_choices_points_at_the_answer_key():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        ## S

        ```quiz
        question: Pick
        choices: [a, b]
        answer: [a, c]
        ```
        """)
    assert errs == [(11, "answer 'c' is not among the choices")]


def test_quiz_yaml_error_line_inside_block():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        ## S

        ```quiz
        question: ok
        answer: [unclosed
        ```
        """)
    assert len(errs) == 1 and errs[0][0] == 10 and "quiz is not valid YAML" in errs[0][1]


@pytest.mark.parametrize("kind", ["check", "solution"])
def test_check_or_solution_without_exercise(kind):
    errs = errors_of(f"""
        ---
        id: x
        title: X
        ---

        ## S

        ```python
        x = 1
        ```

        ```python {kind}
        pass
        ```
        """)
    assert errs == [(12, f"'python {kind}' block with no exercise before it")]


def test_hint_without_exercise_or_quiz():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        ## S

        ```hint
        Look closer.
        ```
        """)
    assert errs == [(8, "'hint' block with no exercise or quiz before it")]


def test_exercise_without_check():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        ## S

        ```python exercise
        x = ...
        ```

        ```python solution
        x = 1
        ```
        """)
    assert errs == [(8, "exercise has no 'python check' block after it")]


def test_check_belongs_to_the_exercise_not_past_a_code_cell():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        ## S

        ```python exercise
        x = ...
        ```

        ```python
        y = 1
        ```

        ```python check
        assert x
        ```
        """)
    assert (8, "exercise has no 'python check' block after it") in errs
    assert (16, "'python check' block with no exercise before it") in errs


def test_duplicate_ids_across_quizzes_and_exercises():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        ## S

        ```quiz
        id: same
        question: Q?
        answer: 1
        ```

        ## T

        ```python exercise id=same
        x = ...
        ```

        ```python check
        assert x == 1
        ```

        ```python solution
        x = 1
        ```
        """)
    assert errs == [(16, "duplicate id 'same' (first used at line 9)")]


@pytest.mark.parametrize(
    "info, expected",
    [
        ("python exersise", "unknown block type 'python exersise' (did you mean 'exercise'?)"),
        ("python solutoin", "unknown block type 'python solutoin' (did you mean 'solution'?)"),
        ("quizz", "unknown block type 'quizz' (did you mean 'quiz'? use 'text' for a block that is only shown)"),
        ("pyhton", "unknown block type 'pyhton' (did you mean 'python'? use 'text' for a block that is only shown)"),
        ("hnit", "unknown block type 'hnit' (did you mean 'hint'? use 'text' for a block that is only shown)"),
    ],
)
def test_misspelt_info_string(info, expected):
    errs = errors_of(f"""
        ---
        id: x
        title: X
        ---

        ## S

        ```{info}
        x = 1
        ```
        """)
    assert errs == [(8, expected)]


@pytest.mark.parametrize("info", ["text", "console", "bash", "json", "yaml", "", "pycon"])
def test_display_languages_are_not_errors(info):
    assert errors_of(f"""
        ---
        id: x
        title: X
        ---

        ## S

        ```{info}
        whatever
        ```
        """) == []


def test_python_syntax_error_points_at_the_line():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        ## S

        ```python
        a = 1
        b = (
        ```
        """)
    assert len(errs) == 1
    assert errs[0][0] in (10, 11) and "Python syntax error" in errs[0][1]


def test_unclosed_fence():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        ## S

        ```python
        x = 1
        """)
    assert errs == [(8, "code block opened with ``` is never closed")]


def test_every_error_in_a_file_is_reported():
    result = parse_file(FIXTURES / "broken" / "07-orphans.md")
    assert [e.line for e in result.errors] == [8, 12, 16]
    assert all(str(e).startswith(str(FIXTURES / "broken" / "07-orphans.md") + ":") for e in result.errors)


def test_setup_with_no_cell_after_it():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        ## S

        ```python setup
        import os
        ```
        """)
    assert errs == [(8, "setup block with no cell after it to run before")]


def test_no_steps():
    errs = errors_of("""
        ---
        id: x
        title: X
        ---

        Only an introduction.
        """)
    assert errs == [(5, "the lesson has no steps: split it with '## ' headings")]


def test_duplicate_headings_get_distinct_step_ids():
    lesson = parse("""
        ---
        id: x
        title: X
        ---

        ## Practice

        ```python
        a = 1
        ```

        ## Practice

        ```python
        b = 2
        ```
        """).lesson
    assert [s.id for s in lesson.steps] == ["practice", "practice-2"]
    assert [c.id for c in lesson.cells()] == ["practice-cell1", "practice-2-cell1"]


def test_unreadable_and_non_utf8_files(tmp_path):
    missing = parse_file(tmp_path / "nope.md")
    assert missing.lesson is None and missing.errors[0].line == 1 and "cannot read" in missing.errors[0].message
    binary = tmp_path / "bin.md"
    binary.write_bytes(b"---\nid: \xff\xfe\n---\n")
    result = parse_file(binary)
    assert result.lesson is None and "not UTF-8" in result.errors[0].message


def test_diagnose_attribute_switches_off_or_names_mistakes_shown_on_purpose():
    from tutor.lessons.model import diagnosis_on, mistakes_shown

    lesson = parse("""
        ---
        id: d
        title: D
        ---
        ## S
        ```python diagnose=off
        x
        ```
        ```python diagnose=zero-grad|loss-flat raises=ValueError
        y
        ```
        ```python
        z
        ```
        ```python exercise diagnose=off
        w = ...
        ```
        ```python check
        assert w
        ```
        ```python solution
        w = 1
        ```
        """).lesson
    off, shown, plain = lesson.cells()
    assert not diagnosis_on(off.diagnose) and mistakes_shown(off.diagnose) == ()
    assert diagnosis_on(shown.diagnose) and mistakes_shown(shown.diagnose) == ("zero-grad", "loss-flat")
    assert shown.raises == "ValueError"
    assert diagnosis_on(plain.diagnose) and mistakes_shown(plain.diagnose) == ()
    assert not diagnosis_on(lesson.exercises()[0].diagnose)


@pytest.mark.parametrize("value, words", [
    ("of", "'of' is not a mistake the tutor knows (did you mean 'off'?)"),
    ("zero_grad", "did you mean 'zero-grad'?"),
    ("zero-grad|", "'' is not a mistake the tutor knows"),
])
def test_diagnose_with_an_unknown_mistake_is_reported_at_its_line(value, words):
    found = errors_of(f"""
        ---
        id: d
        title: D
        ---
        ## S
        ```python diagnose={value}
        x
        ```
        """)
    assert len(found) == 1 and found[0][0] == 6 and words in found[0][1], found


def test_a_setup_serves_every_later_cell_of_its_step():
    """Coming back mid-step, or after a restart, a learner may run any cell first: each
    later cell of the step carries the setup (the worker runs it once), the next step's do not."""
    lesson = parse("""
        ---
        id: s
        title: S
        summary: S.
        minutes: 5
        device: any
        ---

        ## One

        ```python
        before = 1
        ```

        ```python setup
        import math
        ```

        ```python
        first = math.pi
        ```

        ```python exercise id=ex
        later = ...
        ```

        ```python check
        assert later
        ```

        ```python solution
        later = math.e
        ```

        ## Two

        ```python
        other = 2
        ```
        """).lesson
    one, two = lesson.steps
    cells = [b for b in one.blocks if not isinstance(b, Prose)]
    assert [[s.code for s in c.setup] for c in cells] == [[], ["import math\n"], ["import math\n"]]
    assert two.blocks[0].setup == ()
