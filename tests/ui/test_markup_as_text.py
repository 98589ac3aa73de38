"""Words the tutor did not write (a lesson's titles, a learner's error, a check's
message, a path, a URL, a worker's failure) are shown as written: square brackets in
them are text, never Textual markup (a stray ``[/b]`` crashed the app with a
MarkupError, a ``[red]`` was eaten and coloured the rest)."""

from __future__ import annotations

import threading

import pytest
from textual.content import Content
from textual.widgets import Static

from tutor.course_cache import open_course
from tutor.lessons import load_catalog
from tutor.lessons.links import Link
from tutor.progress.background import BackgroundStore
from tutor.ui.app import TutorApp
from tutor.ui.screens import links as links_module
from tutor.ui.screens.confirm import ConfirmScreen
from tutor.ui.screens.home import HomeScreen
from tutor.ui.screens.links import LinksScreen
from tutor.ui.widgets.exercise import ExerciseView

TITLE = "Tags [/b] and [red]colours"
STEP = "Step [/b] one"
ERROR = "[/b] closes [red]nothing"
CHECK = "[red]out[/red] should be [b]2"
URL = "https://example.com/search?q=[/b][red]"

LESSON = f'''---
id: brackets
title: {TITLE}
summary: "[bold]not bold"
---

## {STEP}

Read [the search]({URL}).

```python
raise ValueError("{ERROR}")
```

```python exercise id=two
out = 1
```

```python check
assert out == 2, "{CHECK}"
```

```python solution
out = 2
```

```quiz
id: sum
question: What is 1 + 1?
answer: 2
```

## Hidden setup

```python setup
raise ValueError("{ERROR}")
```

```python
print("after the setup")
```
'''


def told(app) -> list[str]:
    """The notices as their toasts draw them."""
    return [Content.from_markup(n.message).plain if n.markup else n.message for n in app._notifications]


def shown(widget: Static) -> str:
    """What a Static draws, as plain text."""
    return str(widget.render())


@pytest.fixture
def brackets(tmp_path, tutor_home, fake_factory):
    course = tmp_path / "course"
    course.mkdir()
    (course / "00-brackets.md").write_text(LESSON, encoding="utf-8")
    catalog = load_catalog(course)
    assert not catalog.broken, catalog.broken
    return catalog, fake_factory


async def test_a_lessons_titles_errors_and_check_are_shown_as_written(brackets, settle, cells, run_cell,
                                                                     screen_text):
    catalog, factory = brackets
    app = TutorApp(catalog, BackgroundStore.open(), lesson=catalog.find("brackets"), client_factory=factory())
    async with app.run_test(size=(100, 40), notifications=True) as pilot:
        await settle(pilot, app)
        assert shown(app.screen.query_one(".lesson-title", Static)) == f"00 · {TITLE}"
        assert shown(app.screen.query(".step-title").first(Static)) == f"1. {STEP}"
        cell, exercise, after_setup = cells(app)[:3]
        await run_cell(pilot, app, cell)
        assert f"ValueError: {ERROR}" in screen_text(app)
        await run_cell(pilot, app, exercise)
        assert isinstance(exercise, ExerciseView) and not exercise.passed
        assert CHECK in shown(exercise.query_one(".exercise-feedback", Static))
        await run_cell(pilot, app, after_setup)  # its step's hidden setup raises
        text = screen_text(app)
        assert "hidden setup code failed:" in text and text.count(f"ValueError: {ERROR}") == 2
        # The line under a cell quotes the worker (a learner's thread names, a reason it was ended).
        after_setup.set_result(f"still running in the background: {ERROR}", "warn")
        await pilot.pause()
        assert shown(after_setup.query_one(".cell-result", Static)) == f"still running in the background: {ERROR}"


async def test_a_steps_links_are_listed_under_its_title_as_written(brackets, settle, screen_text):
    catalog, factory = brackets
    app = TutorApp(catalog, BackgroundStore.open(), lesson=catalog.find("brackets"), client_factory=factory())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LinksScreen)
        assert f"Links · {STEP}" in screen_text(app)


@pytest.mark.parametrize("here", [True, False])
async def test_a_link_is_followed_and_named_as_written(make_app, monkeypatch, here):
    """(A lesson's markdown link arrives %-encoded; a bare address need not.)"""
    monkeypatch.setattr(links_module, "browser_here", lambda: here)
    app, _ = make_app()
    followed = []
    monkeypatch.setattr(app, "open_url", lambda url, **_: followed.append(url))
    monkeypatch.setattr(app, "copy_to_clipboard", followed.append)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        app.push_screen(LinksScreen(STEP, [Link("the [red]search", URL)]))
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert followed == [URL]
        assert told(app) == [f"Opened in your browser: {URL}" if here else f"Copied {URL} — paste it into your browser."]


async def test_the_palette_lists_a_lessons_titles_as_written(brackets, screen_text):
    catalog, factory = brackets
    app = TutorApp(catalog, BackgroundStore.open(), client_factory=factory())
    commands = list(app.get_system_commands(HomeScreen(catalog, app.store)))
    as_read = {Content.from_markup(c.title).plain: Content.from_markup(c.help).plain for c in commands}
    assert as_read[f"Lesson 00 {TITLE}"] == "[bold]not bold"
    assert as_read[f"Step 00.1 {STEP}"] == f"in {TITLE}"
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"tags")
        for _ in range(10):
            await pilot.pause(0.05)
        assert TITLE in screen_text(app)


async def test_a_progress_file_problem_quotes_its_path_as_written(tmp_path, monkeypatch, catalog, fake_factory,
                                                                  screen_text):
    home = tmp_path / "home [b] [red]x"
    home.mkdir()
    monkeypatch.setenv("TUTOR_HOME", str(home))
    monkeypatch.setenv("TUTOR_OFFLINE", "1")
    (home / "progress.json").write_text("{ this is not json")
    app = TutorApp(catalog, BackgroundStore.open(), client_factory=fake_factory())
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await pilot.pause()
        assert app.store.problem and str(home) in app.store.problem
        assert app.store.problem in told(app)
        assert str(home) in shown(app.screen.query_one("#home-note", Static))


async def test_a_worker_failure_quotes_the_error_as_written(make_app, fake_factory):
    from test_worker_failures import failing

    app, _ = make_app("basics", factory=failing(fake_factory(), "start", RuntimeError(ERROR)))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        for _ in range(20):
            await pilot.pause()
        assert f"Starting the worker of basics failed: RuntimeError: {ERROR}" in told(app)
        assert app.is_running


async def test_a_broken_lesson_file_is_named_as_written(tmp_path, tutor_home, fake_factory):
    """Opened before the first start's parse is back: the parse's error names the file."""
    root = tmp_path / "course"
    root.mkdir()
    (root / "00-later[b][red].md").write_text(
        "---\nid: later\ntitle: Broken [/b] later\n---\n\n## Step\n\n```python\ndef (:\n```\n", encoding="utf-8")
    course = open_course(root)
    asked = threading.Event()

    def parse():  # on the app's parse thread, only once the app has asked for it itself
        if threading.current_thread() is not threading.main_thread():
            asked.wait(30)
        return course.parsed()

    app = TutorApp(course.now, BackgroundStore.open(), client_factory=fake_factory(), parse_course=parse)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        app.open_lesson(course.now.lessons[0])
        asked.set()
        for _ in range(5):
            await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert any("00-later[b][red].md" in m for m in told(app)), told(app)
        options = app.screen.query_one("#lessons")
        assert any("00-later[b][red].md cannot be opened" in str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count))


async def test_no_lessons_names_the_folder_as_written(tmp_path, tutor_home, fake_factory, screen_text):
    root = tmp_path / "course [b] [red]"
    root.mkdir()
    app = TutorApp(load_catalog(root), BackgroundStore.open(), client_factory=fake_factory())
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert f"No lessons in {root}." in screen_text(app)


async def test_a_question_is_asked_as_written(make_app, screen_text):
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.push_screen(ConfirmScreen(f"Leave {TITLE}?", yes="Leave"))
        await pilot.pause()
        assert f"Leave {TITLE}?" in screen_text(app)


async def test_a_review_names_the_lesson_and_step_as_written(brackets, screen_text):
    import time

    from tutor.progress import ProgressStore
    from tutor.ui.screens.review import ReviewScreen

    catalog, factory = brackets
    ProgressStore.open(clock=lambda: time.time() - 3 * 86400).record_quiz_attempt("brackets", "sum", "3", False)
    app = TutorApp(catalog, BackgroundStore.open(), client_factory=factory())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("r")
        for _ in range(5):
            await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        assert f"Quiz from {TITLE} › {STEP}" in screen_text(app)


async def test_news_of_a_session_is_said_as_written(make_app, settle):
    from tutor.sessions.events import LinkChanged
    from tutor.ui.messages import SessionReported

    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot, app)
        app.post_message(SessionReported(app.screen.session, LinkChanged("lost", f"ssh said: {ERROR}", "gpu-box")))
        for _ in range(3):
            await pilot.pause()
        assert f"ssh said: {ERROR}" in told(app)
