"""Every key path of the lesson screen, against the in-process fake worker."""

from __future__ import annotations

import pytest

from tutor.ui.screens.confirm import ConfirmScreen
from tutor.ui.screens.help import HelpScreen
from tutor.ui.screens.home import HomeScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.status_line import StatusLine


async def test_home_lists_lessons_and_opens_one(make_app, screen_text):
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        text = screen_text(app)
        assert "Basics" in text and "Charts" in text
        assert "0/3 steps" in text and "quiz 0/1" in text and "exercises 0/1" in text
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert app.screen.lesson.id == "basics"


async def test_run_cell_shows_output_and_status(make_app, screen_text, settle, cells):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("f5")
        await settle(pilot, app)
        first = cells(app)[0]
        assert first.output.buffer.text() == "the answer is 42"
        assert "✓" in first.header
        assert "the answer is 42" in screen_text(app)
        assert clients[0].executed[-1][0] == "cell 1"
        assert "ready" in app.screen.query_one(StatusLine).plain


async def test_ctrl_r_runs_too_and_ansi_colours_survive(make_app, settle, cells, run_cell):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await run_cell(pilot, app, cells(app)[1], "ctrl+r")
        line = cells(app)[1].output.buffer.line(0)
        assert line.text == "red and plain"
        assert line.spans[0].sgr == "31" and (line.spans[0].start, line.spans[0].end) == (0, 3)


async def test_run_and_advance_moves_focus_to_next_cell(make_app, settle, cells):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("f6")
        await settle(pilot, app)
        assert app.screen.current is cells(app)[1]
        assert app.focused is cells(app)[1].editor
        await pilot.press("ctrl+n")
        await settle(pilot, app)
        assert cells(app)[1].output.buffer.text() == "red and plain"
        assert app.screen.current is cells(app)[2]


async def test_error_marks_learner_line_and_setup_runs_once(make_app, settle, cells, focus, run_cell):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        third = cells(app)[2]
        await run_cell(pilot, app, third)
        text = third.output.buffer.text()
        assert "ZeroDivisionError: division by zero" in text
        assert "cell 3, line 2: z = y / 0" in text
        assert third.editor.error_line == 1
        labels = [label for label, _, _ in clients[0].executed]
        assert labels == ["setup", "cell 3"]
        await pilot.press("f5")
        await settle(pilot, app)
        labels = [label for label, _, _ in clients[0].executed]
        assert labels == ["setup", "cell 3", "cell 3"], "setup runs once per worker"
        # editing the cell clears the error mark
        await focus(pilot, third)
        await pilot.press("end", "x")
        assert third.editor.error_line is None


async def test_setup_runs_again_after_a_restart(make_app, settle, cells, run_cell):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await run_cell(pilot, app, cells(app)[2])
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot, app)
        assert clients[0].restarts == 1
        await pilot.press("f5")
        await settle(pilot, app)
        labels = [label for label, _, _ in clients[0].executed]
        assert labels == ["setup", "cell 3", "setup", "cell 3"]


async def test_restart_can_be_declined(make_app, settle):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("f8")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert clients[0].restarts == 0


async def test_interrupt_stops_a_running_cell_and_drops_the_queue(make_app, settle, cells, focus):
    app, clients = make_app("charts")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        blocker, = [c for c in cells(app) if "block()" in c.code]
        await focus(pilot, blocker)
        await pilot.press("f5")
        await pilot.pause()
        await focus(pilot, cells(app)[0])
        await pilot.press("f5")  # queued behind the blocked cell
        await pilot.pause()
        assert blocker.running
        assert "running" in app.screen.query_one(StatusLine).plain
        await pilot.press("ctrl+c")  # ctrl+c interrupts while something runs
        await settle(pilot, app)
        assert clients[0].interrupts == 1
        assert "Interrupted, variables kept." in str(blocker.query_one(".cell-result").render())
        assert "not run" in cells(app)[0].header
        assert [label for label, _, _ in clients[0].executed] == ["cell 4"]


@pytest.mark.parametrize("last_run", ["failed", "passed"])
async def test_a_rerun_that_says_running_no_longer_shows_the_last_runs_error(make_app, settle, cells, run_cell, last_run):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        cell = cells(app)[0]
        cell.replace_code("print('before')\n" + ("1 / 0" if last_run == "failed" else ""))
        await run_cell(pilot, app, cell)
        assert "before" in cell.output.buffer.text()
        cell.replace_code("block()")  # runs, silent, until interrupted
        await pilot.press("f5")
        for _ in range(100):
            if "running…" in cell.header:
                break
            await pilot.pause(0.02)
        assert "running…" in cell.header
        await pilot.pause()
        # A failure's error under "running…" read as the new run's: gone. What a run
        # that passed printed stays until the new run shows something (no relayout).
        assert ("before" in cell.output.buffer.text()) == (last_run == "passed")
        await pilot.press("f7")
        await settle(pilot, app)
        assert cell.last_status == "interrupted"


async def test_ctrl_c_copies_when_nothing_runs(make_app, settle):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert clients[0].interrupts == 0


async def test_run_all_above(make_app, settle, cells, run_cell):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await run_cell(pilot, app, cells(app)[2], "f4")
        assert [label for label, _, _ in clients[0].executed] == ["cell 1", "cell 2"]


async def test_failure_stops_the_cells_queued_after_it(make_app, settle, cells, focus):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await focus(pilot, cells(app)[0])
        await pilot.press("home", "1", "/", "0", "+")  # cell 1 now fails
        await focus(pilot, cells(app)[3])  # the exercise
        await pilot.press("f4")
        await settle(pilot, app)
        assert [label for label, _, _ in clients[0].executed] == ["cell 1"]
        assert "not run" in cells(app)[1].header
        assert "not run" in cells(app)[2].header


async def test_reset_asks_then_restores_lesson_code(make_app, settle, cells, focus):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        first = cells(app)[0]
        await focus(pilot, first)
        await pilot.press("end", "!", "!")
        assert first.code.endswith("!!") or "!!" in first.code
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert "!!" in first.code
        await pilot.press("f9")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert first.code == first.original_code


async def test_help_and_back_home(make_app, screen_text, settle):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("escape")  # leave the editor
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "interrupt the running cell" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)


async def test_contents_jumps_to_a_step(make_app, settle, cells):
    app, _ = make_app("basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert not app.screen.toc.shown, "narrow screens hide the contents"
        await pilot.press("f2")
        await pilot.pause()
        assert app.screen.toc.shown
        await pilot.press("down", "down", "enter")  # from step 1 to step 3
        await pilot.pause()
        assert app.screen.current_step == "exercise"
        assert app.focused is cells(app)[3].editor
        assert not app.screen.toc.shown


async def test_a_cell_meant_to_fail_does_not_stop_run_all_above(make_app, settle, cells, run_cell):
    app, clients = make_app("errors")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await run_cell(pilot, app, cells(app)[2], "f4")
        assert [label for label, _, _ in clients[0].executed] == ["cell 1", "cell 2"]
        assert "raised IndexError, as this cell means to" in cells(app)[1].header
        assert "IndexError" in cells(app)[1].output.buffer.text()
        await run_cell(pilot, app, cells(app)[2])
        assert cells(app)[2].output.buffer.text() == "after the error: 3"


async def test_page_keys_move_in_the_code_then_page_the_lesson(make_app, settle, cells, focus):
    """PgDn in an editor goes to the code's last line; from there it pages the lesson
    (as in a notebook). PgUp likewise, up to the first line, then the lesson."""
    app, _ = make_app("basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        page = app.screen.page
        cell = next(c for c in cells(app) if c.editor.document.line_count >= 2)
        editor = cell.editor
        last = editor.document.line_count - 1
        await focus(pilot, cell)
        editor.move_cursor((0, 0))
        top = page.scroll_y
        await pilot.press("pagedown")
        await pilot.pause()
        assert editor.cursor_location[0] == last and page.scroll_y == top  # in the code
        await pilot.press("pagedown")
        await pilot.pause()
        assert page.scroll_y > top and editor.cursor_location[0] == last  # the lesson
        assert editor.has_focus  # still typing in the cell
        paged = page.scroll_y
        await pilot.press("pageup")
        await pilot.pause()
        assert editor.cursor_location[0] == 0 and page.scroll_y == paged
        await pilot.press("pageup")
        await pilot.pause()
        assert page.scroll_y < paged and editor.cursor_location[0] == 0 and editor.has_focus


async def test_ctrl_home_and_ctrl_end_go_to_the_start_and_end_of_the_code(make_app, settle, cells, focus):
    """As in other editors: Ctrl+End goes to the end of the cell's code (to add a line
    there), Ctrl+Home back to its start; with Shift they select."""
    app, _ = make_app("basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        cell = next(c for c in cells(app) if c.editor.document.line_count >= 2)
        editor = cell.editor
        await focus(pilot, cell)
        editor.move_cursor((0, 0))
        await pilot.press("ctrl+end")
        assert editor.cursor_location == editor.document.end and editor.selected_text == ""
        await pilot.press("ctrl+home")
        assert editor.cursor_location == (0, 0)
        await pilot.press("ctrl+shift+end")
        assert editor.selected_text == editor.text
        assert editor.has_focus
