"""SVG snapshots at 80x24 and 120x40 (cursor blink off, fake worker): the home screen,
a lesson with output, a live chart, a quiz, and an error. Update with
``pytest tests/ui/test_snapshots.py --snapshot-update`` after a deliberate change, and
look at the SVGs before committing them."""

from __future__ import annotations

import pytest

from tutor.ui.screens.lesson import LessonScreen


SIZES = [(80, 24), (120, 40)]


def _still_cursors(app) -> None:
    """No blinking cursor anywhere (the quiz's Input too): snapshots must not depend on time."""
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False


@pytest.fixture
def ready(settle):
    """run_before: the screen is idle, no cursor blinks."""
    async def run_before(pilot):
        await settle(pilot, pilot.app)
        _still_cursors(pilot.app)
    return run_before


@pytest.fixture
def running(settle, cells, drawn):
    """``running(*cell_numbers, then=None)``: a run_before that runs these cells
    (1-based), waits, then optionally does more."""
    return lambda *cell_numbers, then=None: _running(settle, cells, drawn, cell_numbers, then)


def _running(settle, cells, drawn, cell_numbers, then):
    async def run_before(pilot):
        app = pilot.app
        await settle(pilot, app)
        for number in cell_numbers:
            cell = cells(app)[number - 1]
            cell.editor.focus()
            await pilot.pause()
            await pilot.press("f5")
            await settle(pilot, app)
        await drawn(pilot, app)
        if then is not None:
            await then(pilot)
        _still_cursors(app)
        await pilot.pause()
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_home(snap_compare, make_app, size, ready):
    app, _ = make_app()
    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_lesson_with_output(snap_compare, make_app, size, cells, running):
    app, _ = make_app("basics")

    async def back_to_top(pilot):
        pilot.app.screen.query_one("#page").scroll_to(y=3, animate=False)
        cells(pilot.app)[1].editor.focus()

    assert snap_compare(app, terminal_size=size, run_before=running(1, 2, then=back_to_top))


@pytest.mark.parametrize("size", SIZES)
def test_live_chart(snap_compare, make_app, size, running):
    app, _ = make_app("charts")
    assert snap_compare(app, terminal_size=size, run_before=running(1))


@pytest.mark.parametrize("size", SIZES)
def test_quiz(snap_compare, make_app, size, running):
    app, _ = make_app("basics")

    async def answer_wrong(pilot):
        screen = pilot.app.screen
        assert isinstance(screen, LessonScreen)
        quiz = screen.query_one("QuizView")
        quiz.query_one("Input").focus()
        await pilot.pause()
        await pilot.press(*"41", "enter")
        await pilot.pause()
        _still_cursors(pilot.app)
        await pilot.pause()  # the feedback is laid out: now the scroll position is final
        screen.query_one("#page").scroll_to_widget(quiz, top=True, animate=False)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=running(then=answer_wrong))


@pytest.mark.parametrize("size", SIZES)
def test_error(snap_compare, make_app, size, cells, running):
    app, _ = make_app("basics")

    async def show_it(pilot):
        cell = cells(pilot.app)[2]
        pilot.app.screen.query_one("#page").scroll_to_widget(cell, top=True, animate=False)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=running(3, then=show_it))


def _scrolled_to(cells, cell_number: int):
    async def scroll(pilot):
        cell = cells(pilot.app)[cell_number - 1]
        pilot.app.screen.query_one("#page").scroll_to_widget(cell, top=True, animate=False)
        await pilot.pause()
    return scroll


def test_long_errors_read_in_full_at_80x24(snap_compare, make_app, cells, running):
    """Lesson 02's shape error and lesson 00's ``.item()`` error, every word on screen."""
    app, _ = make_app("errors")
    assert snap_compare(app, terminal_size=(80, 24), run_before=running(4, 5, then=_scrolled_to(cells, 4)))


def test_long_error_beside_the_contents_at_100x30(snap_compare, make_app, cells, running):
    """At 100 columns the contents take a side column: the error still reads in full."""
    app, _ = make_app("errors")
    assert snap_compare(app, terminal_size=(100, 30), run_before=running(4, 5, then=_scrolled_to(cells, 4)))


def test_a_wide_table_pans_after_w(snap_compare, make_app, cells, running):
    """Wrapped by default; ``w`` on the focused output pans it (the footer says so)."""
    app, _ = make_app("errors")

    async def pan(pilot):
        await _scrolled_to(cells, 6)(pilot)
        table = cells(pilot.app)[5]
        table.output.focus()
        await pilot.press("w", "right", "right")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=running(6, then=pan))


def test_links_of_a_step(snap_compare, make_app, monkeypatch, settle, running):
    from tutor.ui.screens import links

    monkeypatch.setattr(links, "browser_here", lambda: False)  # as over SSH, whatever this machine has
    app, _ = make_app("errors")

    async def links(pilot):
        pilot.app.screen.go_to_step("further-reading")
        await settle(pilot, pilot.app)
        await pilot.press("ctrl+l")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=running(then=links))
