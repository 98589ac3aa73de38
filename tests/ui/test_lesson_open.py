"""A lesson opens at once: only the steps near the view are built (the others are
placeholders of about their height), and everything works before the rest are:
scrolling, jumps, "run all above" on the very first frame, runs dropped in steps not
built yet. Steps filled above the view do not move what the learner reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor import config
from tutor.lessons import load_catalog
from tutor.progress.background import BackgroundStore
from tutor.ui.app import TutorApp
from tutor.ui.widgets.step import StepView, estimated_rows

STEPS = 20


@pytest.fixture
def long_catalog(tmp_path):
    """One lesson ("long") of STEPS steps, each some prose, a cell, and every third a quiz."""
    course = tmp_path / "course"
    course.mkdir()
    parts = ["---\nid: long\ntitle: Long\n---\n\nA lesson longer than the screen.\n"]
    for n in range(1, STEPS + 1):
        prose = "\n\n".join(f"Paragraph {n}.{i}: " + "some words to read " * 5 for i in range(4))
        parts.append(f"## Step {n}\n\n{prose}\n\n```python\nprint('cell of step {n}')\n```\n")
        if n % 3 == 0:
            parts.append(f"```quiz\nid: q{n}\nquestion: What is {n} + 1?\nanswer: {n + 1}\n```\n")
    (course / "00-long.md").write_text("\n".join(parts))
    return load_catalog(course)


@pytest.fixture
def open_long(long_catalog, tutor_home, fake_factory):
    """``open_long(step=1)`` -> (app, clients): the long lesson opened at that step."""
    def make(step: int = 1):
        lesson = long_catalog.find("long")
        factory = fake_factory()
        app = TutorApp(long_catalog, BackgroundStore.open(), lesson=lesson,
                       step_id=lesson.steps[step - 1].id, client_factory=factory)
        return app, factory.clients
    return make


def filled(app) -> list[int]:
    """The numbers of the steps whose blocks are mounted."""
    return [view.number for view in app.screen.query(StepView) if view.filled]


def row_in_view(app, step: int) -> int:
    """The row of the step's top in the page's view (0: at the top)."""
    page = app.screen.page
    return page.step_view(app.screen.lesson.steps[step - 1].id).region.y - page.region.y


async def test_a_lesson_opened_at_a_late_step_draws_that_step_first(open_long, screen_text):
    app, _ = open_long(step=15)
    async with app.run_test(size=(100, 30)):
        screen = app.screen
        text = screen_text(app)  # the first frame
        assert "15. Step 15" in text and "cell of step 15" in text
        assert "1. Step 1\n" not in text
        assert row_in_view(app, 15) == 0
        assert screen.current_step == screen.lesson.steps[14].id
        assert screen.current is screen.page.step_cells(screen.current_step)[0]
        assert len(filled(app)) < STEPS


async def test_run_all_above_on_the_first_frame_runs_them_in_order_and_the_view_stays(
        open_long, settle, screen_text):
    app, clients = open_long(step=15)
    async with app.run_test(size=(100, 30)) as pilot:
        assert len(filled(app)) < STEPS
        await pilot.press("f4")
        await settle(pilot, app)
        assert [label for label, _, _ in clients[0].executed] == [f"cell {n}" for n in range(1, 15)]
        cells = app.screen.cells
        assert all("✓" in cell.header for cell in cells[:14])  # their steps were built to show it
        assert row_in_view(app, 15) == 0  # the steps filled above did not move the page
        assert "cell of step 15" in screen_text(app)


async def test_runs_dropped_in_steps_not_built_yet_show_when_they_are(open_long, settle, screen_text):
    app, clients = open_long(step=15)
    async with app.run_test(size=(100, 30)) as pilot:
        first = app.screen.cells[0]
        first.initial_code = "1 / 0"  # its step is not built: the run takes this code
        await pilot.press("f4")
        await settle(pilot, app)
        assert [label for label, _, _ in clients[0].executed] == ["cell 1"]
        assert 5 not in filled(app)
        app.screen.go_to_step(app.screen.lesson.steps[4].id)
        await settle(pilot, app)
        fifth = app.screen.cells[4]
        assert "not run" in fifth.header
        assert "not run: cell 1 did not finish" in screen_text(app)


async def test_the_palette_jumps_to_the_last_step_on_the_first_frame(open_long, settle, screen_text):
    app, _ = open_long(step=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*f"step 00.{STEPS} step {STEPS}")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        screen = app.screen
        last = screen.lesson.steps[-1].id
        assert screen.current_step == last
        assert app.focused is screen.page.step_cells(last)[0].editor
        assert f"{STEPS}. Step {STEPS}" in screen_text(app) and f"cell of step {STEPS}" in screen_text(app)
        assert len(filled(app)) < STEPS  # the steps in between were never built


async def test_scrolling_builds_each_step_as_it_comes_into_view(open_long, settle):
    app, _ = open_long(step=1)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        page = app.screen.page
        page.focus()
        seen = set()
        for _ in range(200):
            top, bottom = page.scroll_y, page.scroll_y + page.scrollable_content_region.height
            in_view = [view for view in app.screen.query(StepView)
                       if view.virtual_region.bottom > top and view.virtual_region.y < bottom]
            assert in_view and all(view.filled for view in in_view)
            seen.update(view.number for view in in_view)
            if page.scroll_y >= page.max_scroll_y:
                break
            await pilot.press("pagedown")
            await settle(pilot, app)
        assert seen == set(range(1, STEPS + 1))
        assert app.screen.current_step == app.screen.lesson.steps[-1].id


async def estimates_against_real_heights(app, pilot, settle) -> list[tuple[str, int, int]]:
    """(step title, real rows, estimated rows) for every step, all filled."""
    await settle(pilot, app)
    views = list(app.screen.query(StepView))
    for view in views:
        await view.fill()
    await settle(pilot, app)
    return [(view.step.title, view.content_region.height, estimated_rows(view.step, view.content_region.width))
            for view in views]


async def test_a_placeholder_is_about_as_tall_as_its_step(open_long, settle):
    """Estimates keep the page about its length (the scrollbar, a jump's landing)."""
    app, _ = open_long(step=1)
    async with app.run_test(size=(100, 30)) as pilot:
        for title, real, guess in await estimates_against_real_heights(app, pilot, settle):
            assert 0.8 * real <= guess <= 1.25 * real, (title, real, guess)


@pytest.mark.slow
@pytest.mark.parametrize("width", [80, 100])
async def test_placeholders_of_the_real_lessons_are_about_as_tall_as_their_steps(width, tutor_home, fake_factory, settle):
    catalog = load_catalog(config.builtin_lessons_dir())
    for lesson in catalog.lessons:
        app = TutorApp(catalog, BackgroundStore.open(), lesson=lesson, client_factory=fake_factory())
        async with app.run_test(size=(width, 30)) as pilot:
            for title, real, guess in await estimates_against_real_heights(app, pilot, settle):
                assert 0.7 * real <= guess <= 1.4 * real, (lesson.id, title, real, guess)
