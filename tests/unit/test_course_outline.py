"""The outline of a course (read without markdown-it, for a first start's home screen)
gives every lesson, step and block the ids and titles that the full parse gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor import config
from tutor.lessons import Catalog, load_catalog
from tutor.lessons.model import Prose
from tutor.lessons.outline import CourseOutline, read_outline

TESTS = Path(__file__).parents[1]
COURSES = [config.builtin_lessons_dir(), TESTS / "ui" / "course", TESTS / "ui" / "files_course",
           TESTS / "ui" / "real_course", TESTS / "sessions" / "course", TESTS / "fixtures" / "course"]


def skeleton(lesson) -> tuple | None:
    """What the home screen shows of a lesson and counts progress by."""
    if lesson is None:
        return None
    return (lesson.id, lesson.title, lesson.number, lesson.summary, lesson.minutes, lesson.requires, lesson.device,
            lesson.id_line, lesson.requires_line,
            tuple((step.id, step.title, step.line,
                   tuple((type(b).__name__, b.id, b.line) for b in step.blocks if not isinstance(b, Prose)))
                  for step in lesson.steps))


def course_skeleton(catalog: Catalog) -> list[tuple]:
    return [(r.path, skeleton(r.lesson), tuple(map(str, r.errors))) for r in catalog.results]


@pytest.mark.parametrize("root", COURSES, ids=lambda p: p.name)
def test_the_outline_agrees_with_the_parse(root):
    outline, parsed = read_outline(root), load_catalog(root)
    assert isinstance(outline, CourseOutline)
    assert [r.path for r in outline.results] == [r.path for r in parsed.results], "the same files, in course order"
    for seen, full in zip(course_skeleton(outline), course_skeleton(parsed)):
        if not full[2]:
            assert seen == full
        else:  # broken: the outline finds the same errors, or (deeper ones) none, until the parse is back
            assert seen == full or (not seen[2] and seen[1] is not None), seen
    usable = {lesson.id for lesson in parsed.lessons}
    assert [l.id for l in outline.lessons if l.id in usable] == [l.id for l in parsed.lessons]


def test_every_builtin_lesson_is_read_by_the_outline_alone():
    parsed = load_catalog(config.builtin_lessons_dir())
    assert parsed.lessons and not parsed.broken
    assert course_skeleton(read_outline(config.builtin_lessons_dir())) == course_skeleton(parsed)


def test_files_the_outline_cannot_read_carry_the_parsers_errors():
    root = TESTS / "fixtures" / "broken"
    outline = {r.path.name: r for r in read_outline(root).results}
    parsed = {r.path.name: r for r in load_catalog(root).results}
    # bad front matter YAML, no title, a quiz that is not a mapping; and the cross-file ones
    for name in ("01-bad-yaml.md", "02-no-title.md", "03-quiz-not-mapping.md", "11-unknown-requires.md",
                 "12-duplicate-lesson-id.md"):
        assert outline[name].errors and outline[name].errors == parsed[name].errors, name
        assert skeleton(outline[name].lesson) == skeleton(parsed[name].lesson)


TRICKY = '''---
id: tricky   # a comment
title: 'It''s tricky'
summary: "Fences: inside, around"
minutes: 12
requires: [alpha, beta]
device: any
---

Intro text.

## Why?

```python id=first
x = 1
```

````markdown
```python
## not a step
```
````

~~~python
y = 2
~~~

<!--
## an author's note, not a step
-->

1. a list item with code:

   ```python
   ## inside the item
   ```

```python exercise
z = ...
```

```python check
assert z
```

```python solution
z = 3
```

```hint
Three.
```

## Why?

```quiz
question: Why?
answer: because
id: named-quiz
```

```quiz
question: Again?
answer: yes
```

```python setup
import os
```

```sh
ls
```

```sh exercise id=shell
touch a
```

```python check
assert True
```

```sh solution
touch a
```

```text
## shown, not a step
```

## Closing ##

```Python
print("any case")
```
'''


def course_of(tmp_path, files: dict[str, str]) -> Path:
    root = tmp_path / "course"
    root.mkdir()
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_the_outline_reads_fences_headings_and_front_matter_as_commonmark_does(tmp_path):
    alpha = "---\nid: alpha\ntitle: Alpha\n---\n\n## One\n\nText.\n"
    beta = "---\nid: beta\ntitle: Beta\n---\n\n## One\n\nText.\n"
    root = course_of(tmp_path, {"00-alpha.md": alpha, "01-beta.md": beta, "02-tricky.md": TRICKY})
    parsed = load_catalog(root)
    assert not parsed.broken, parsed.errors
    tricky = parsed.find("tricky")
    assert [s.id for s in tricky.steps] == ["why", "why-2", "closing"]
    assert course_skeleton(read_outline(root)) == course_skeleton(parsed)


@pytest.mark.parametrize("front", [
    "id: block\ntitle: Block list\nrequires:\n  - alpha\n",  # a block list
    "id: folded\ntitle: Folded\nsummary: >\n  two\n  lines\n",  # a folded scalar
    'id: escaped\ntitle: "Tab\\there"\n',  # an escape in double quotes
    "id: number\ntitle: 2024\nminutes: 010\n",  # an octal number, YAML 1.1
    "id: nothing\ntitle: Nothing\nsummary: null\n",
])
def test_front_matter_beyond_plain_lines_is_read_as_yaml_reads_it(tmp_path, front):
    alpha = "---\nid: alpha\ntitle: Alpha\n---\n\n## One\n\nText.\n"
    root = course_of(tmp_path, {"00-alpha.md": alpha, "01-lesson.md": f"---\n{front}---\n\n## Step\n\nText.\n"})
    assert course_skeleton(read_outline(root)) == course_skeleton(load_catalog(root))


@pytest.mark.parametrize("text", [
    "no front matter\n\n## Step\n",
    "---\nid: x\ntitle: X\n---\n\nno steps at all\n",
    "---\nid: x\ntitle: X\n---\n\n## Step\n\n```python\nnever closed\n",
    "---\nid: x\ntitle: X\nminutes: soon\n---\n\n## Step\n",
    "---\nid: x\n---\n\n## Step\n",
])
def test_a_file_the_outline_cannot_read_is_parsed_for_its_errors(tmp_path, text):
    root = course_of(tmp_path, {"00-x.md": text})
    outline, parsed = read_outline(root), load_catalog(root)
    assert parsed.broken and course_skeleton(outline) == course_skeleton(parsed)

