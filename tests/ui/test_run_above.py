"""Run all above (F4) stops at the first run that does not go on, such as an unsolved
exercise whose code raises: the learner, below, is told where it stopped and why, and
the cells it did not run name the run that stopped them."""

from __future__ import annotations

import pytest

from tutor.lessons import load_catalog
from tutor.progress.background import BackgroundStore
from tutor.ui.app import TutorApp

LESSON = '''---
id: above
title: Run above
---

## Tensors

```python
x = 1
```

## Datatypes

```python exercise id=fix-dtype
out = x + "a"
```

```python check
assert out == 2, "out should be 2"
```

```python solution
out = x + 1
```

## After

```python
y = out * 2
```

```python
print("y is", y)
```
'''


@pytest.fixture
def open_above(tmp_path, tutor_home, fake_factory):
    course = tmp_path / "course"
    course.mkdir()
    (course / "00-above.md").write_text(LESSON)
    catalog = load_catalog(course)
    factory = fake_factory()
    app = TutorApp(catalog, BackgroundStore.open(), lesson=catalog.find("above"), client_factory=factory)
    return app, factory.clients


def told(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_run_all_above_says_which_exercise_it_stopped_at(open_above, settle, cells, run_cell, screen_text):
    app, clients = open_above
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await run_cell(pilot, app, cells(app)[3], "f4")
        assert [label for label, _, _ in clients[0].executed] == ["cell 1", "exercise 2"]
        skipped = cells(app)[2]
        assert "not run" in skipped.header
        assert str(skipped.query_one(".cell-result").render()) == "not run: exercise 2 did not finish"
        [said] = [m for m in told(app) if m.startswith("Run all above")]
        assert said.startswith("Run all above stopped at exercise 2 (“Datatypes”): TypeError")
        assert "The 1 cell after it did not run." in said and "solve it, then press F4 again" in said
        assert "Run all above stopped at exercise 2" in " ".join(screen_text(app).split())


async def test_run_all_above_that_goes_through_says_nothing(open_above, settle, cells, focus, run_cell):
    app, clients = open_above
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        exercise = cells(app)[1]
        await focus(pilot, exercise)
        exercise.editor.text = "out = x + 1"
        await run_cell(pilot, app, cells(app)[3], "f4")
        assert [label for label, _, _ in clients[0].executed] == ["cell 1", "exercise 2", "cell 3"]
        assert not [m for m in told(app) if m.startswith("Run all above")]


async def test_runs_the_learner_stopped_are_not_news(open_above, settle, cells, focus, run_cell):
    app, clients = open_above
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        cells(app)[0].editor.text = "block()"
        await focus(pilot, cells(app)[3])
        await pilot.press("f4")
        for _ in range(50):
            await pilot.pause()
            if cells(app)[0].running:
                break
        await pilot.press("f7")
        await settle(pilot, app)
        assert clients[0].interrupts == 1 and "not run" in cells(app)[1].header
        assert not [m for m in told(app) if m.startswith("Run all above")]


async def test_an_error_that_looks_like_markup_is_shown_as_written(tmp_path, tutor_home, fake_factory, settle, cells,
                                                                   run_cell, screen_text):
    """The note quotes the learner's error: square brackets in it are text, not styles."""
    course = tmp_path / "course"
    course.mkdir()
    (course / "00-above.md").write_text(LESSON.replace('out = x + "a"', 'raise ValueError("[/b] closes [red]nothing")'))
    catalog = load_catalog(course)
    app = TutorApp(catalog, BackgroundStore.open(), lesson=catalog.find("above"), client_factory=fake_factory())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot, app)
        await run_cell(pilot, app, cells(app)[3], "f4")
        [said] = [m for m in told(app) if m.startswith("Run all above")]
        assert "ValueError: [/b] closes [red]nothing" in said
        await pilot.pause()
        assert "[/b] closes [red]nothing" in " ".join(screen_text(app).split())
