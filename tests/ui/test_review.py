"""The review screen: due quizzes asked again, due exercises opened in their lesson."""

from __future__ import annotations

import time

from textual.app import App

from tutor.lessons import parse_text
from tutor.lessons.catalog import Catalog
from tutor.progress import ProgressStore
from tutor.review import DAY
from tutor.ui.screens.review import ReviewScreen
from tutor.ui.widgets.quiz import QuizView


LESSON = """\
---
id: basics
title: Basics
---
## Shapes

```quiz
id: shape
question: What is the shape of `torch.zeros(2, 3).T`?
answer: (3, 2)
```

```quiz
id: word
question: Which activation is max(0, x)?
choices: [sigmoid, relu, tanh]
answer: relu
```

## Practice

```python exercise id=make
x = ...
```

```python check
assert x == 1
```

```python solution
x = 1
```
"""


def make_catalog(tmp_path) -> Catalog:
    result = parse_text(LESSON, tmp_path / "00-basics.md")
    assert result.ok, result.errors
    return Catalog(root=tmp_path, results=(result,))


def due_store(tmp_path, *scheduled: tuple[str, str]) -> ProgressStore:
    """A store where each (kind, id) became due yesterday."""
    path = tmp_path / "progress.json"
    past = ProgressStore.open(path, clock=lambda: time.time() - 2 * DAY)
    for kind, item_id in scheduled:
        if kind == "quiz":
            past.record_quiz_attempt("basics", item_id, "wrong", correct=False)
        else:
            past.reveal_solution("basics", item_id)
    return ProgressStore.open(path)


class ReviewApp(App):
    def __init__(self, store, catalog):
        super().__init__()
        self.store = store
        self.catalog = catalog
        self.opened: list[tuple[str, str, str | None]] = []

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen())  # store and catalog from the app, as the home screen does

    def on_review_screen_open_exercise(self, message: ReviewScreen.OpenExercise) -> None:
        self.opened.append((message.lesson_id, message.exercise_id, message.step_id))


async def test_a_due_quiz_answered_right_moves_up_a_box(tmp_path, screen_text):
    store = due_store(tmp_path, ("quiz", "shape"))
    app = ReviewApp(store, make_catalog(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Review · 1 of 1" in text and "Quiz from Basics › Shapes (box 1)" in text
        await pilot.press(*"3x2", "enter")
        await pilot.pause()
        assert "✓ Right!" in screen_text(app)
        [item] = store.reviews()
        assert item.box == 2 and item.due > time.time() + 2 * DAY
        assert store.lesson("basics").quizzes["shape"].last_answer == "3x2"
        await pilot.press("f6")
        await pilot.pause()
        text = screen_text(app)
        assert "Review · done" in text and "Reviewed 1 quiz: 1 right." in text


async def test_only_the_first_answer_counts(tmp_path, screen_text):
    store = due_store(tmp_path, ("quiz", "word"))
    app = ReviewApp(store, make_catalog(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("1")  # sigmoid: wrong
        await pilot.pause()
        assert "F10 shows the answer" in screen_text(app)
        await pilot.press("2")  # relu, right, but a retry
        await pilot.pause()
        [item] = store.reviews()
        assert item.box == 1 and item.due > time.time() + DAY - 60
        assert app.screen.answered == {item.key: False}


async def test_several_items_in_order_then_a_summary(tmp_path, screen_text):
    store = due_store(tmp_path, ("quiz", "shape"), ("quiz", "word"))
    app = ReviewApp(store, make_catalog(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "1 of 2" in screen_text(app)
        await pilot.press(*"(2, 3)", "enter", "f6")
        await pilot.pause()
        assert "2 of 2" in screen_text(app) and "Which activation" in screen_text(app)
        await pilot.press("2", "ctrl+n")
        await pilot.pause()
        assert "Reviewed 2 quizzes: 1 right." in screen_text(app)


async def test_a_due_exercise_opens_its_lesson(tmp_path, screen_text):
    store = due_store(tmp_path, ("exercise", "make"))
    app = ReviewApp(store, make_catalog(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Exercise from Basics › Practice" in text and "needed the solution" in text
        await pilot.press("enter")
        await pilot.pause()
        assert app.opened == [("basics", "make", "practice")]
        assert len(store.reviews()) == 1  # the pass in the lesson will count, not this


async def test_items_gone_from_the_course_are_dropped(tmp_path, screen_text):
    store = due_store(tmp_path, ("quiz", "removed"), ("quiz", "shape"))
    app = ReviewApp(store, make_catalog(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "1 of 1" in screen_text(app)
        assert [item.item_id for item in store.reviews()] == ["shape"]


async def test_nothing_due_and_escape_goes_back(tmp_path, screen_text):
    store = ProgressStore.open(tmp_path / "progress.json")
    app = ReviewApp(store, make_catalog(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Nothing to review now." in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ReviewScreen)


async def test_review_quiz_is_a_fresh_quiz_view(tmp_path, screen_text):
    store = due_store(tmp_path, ("quiz", "shape"))
    app = ReviewApp(store, make_catalog(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        view = app.screen.query_one(QuizView)
        assert view.record is None and "Last time" not in screen_text(app)
