"""A first start (no parsed course cached): the home screen draws from the course's
outline, the full parse comes after the first frame, and a lesson is only ever opened
from the parsed course, however soon the learner presses Enter."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from tutor.course_cache import cache_path, open_course
from tutor.lessons.outline import CourseOutline
from tutor.progress.background import BackgroundStore
from tutor.ui.app import TutorApp
from tutor.ui.screens.home import HomeScreen
from tutor.ui.screens.lesson import LessonScreen

COURSE = Path(__file__).parent / "course"
# A lesson whose fault only the full parse sees (the outline does not compile cells).
BROKEN_LATER = "---\nid: later\ntitle: Broken later\n---\n\n## Step\n\n```python\ndef (:\n```\n"


@pytest.fixture
def first_start(tmp_path, tutor_home, fake_factory):
    """(app, course, gate): the app on a fresh course's outline; its parse thread waits
    for ``gate`` or for a parse the app asks for at once, on its own thread."""
    root = tmp_path / "course"
    shutil.copytree(COURSE, root)
    (root / "03-broken-later.md").write_text(BROKEN_LATER, encoding="utf-8")
    course = open_course(root)
    assert not course.ready
    gate = threading.Event()

    def parse():
        if threading.current_thread() is not threading.main_thread():
            while not (gate.wait(0.01) or course.ready):
                pass
        return course.parsed()

    app = TutorApp(course.now, BackgroundStore.open(), client_factory=fake_factory(), parse_course=parse)
    yield app, course, gate
    gate.set()


async def until(pilot, condition, what: str) -> None:
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never: {what}")


async def test_home_draws_from_the_outline_then_shows_the_parsed_course(first_start, screen_text):
    app, course, gate = first_start
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen) and isinstance(app.catalog, CourseOutline)
        shown = screen_text(app)
        assert "Basics" in shown and "Broken later" in shown and "cannot be opened" not in shown
        gate.set()
        await until(pilot, lambda: not isinstance(app.catalog, CourseOutline), "the parsed course")
        await pilot.pause()
        shown = screen_text(app)
        assert "03-broken-later.md cannot be opened" in shown and "syntax error" in shown
        assert "Basics" in shown and app.catalog is course.parsed()
        assert cache_path(course.root).exists(), "the next start comes from the cache"


async def test_a_lesson_opened_before_the_parse_is_back_is_the_parsed_one(first_start, settle):
    app, course, gate = first_start
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.catalog, CourseOutline)
        await pilot.press("enter")  # the first lesson, at once
        await settle(pilot, app)
        assert isinstance(app.screen, LessonScreen)
        lesson = app.screen.lesson
        assert lesson is course.parsed().find("basics") and "print" in lesson.cells()[0].code
        assert not isinstance(app.catalog, CourseOutline)


async def test_a_lesson_the_parse_finds_broken_is_not_opened(first_start, screen_text):
    app, course, gate = first_start
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        options = app.screen.query_one("#lessons")
        options.highlighted = next(i for i in range(options.option_count)
                                   if options.get_option_at_index(i).id == "later")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        said = [n.message for n in app._notifications]
        assert any("lesson file is broken" in m and "03-broken-later.md:9" in m for m in said), said
        assert "03-broken-later.md cannot be opened" in screen_text(app)
