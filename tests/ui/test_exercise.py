"""The exercise widget: check, feedback, hints, solution, reset, input ignored while checking."""

from __future__ import annotations


from tutor.ui.screens.confirm import ConfirmScreen
from tutor.ui.widgets.exercise import ExerciseView


def exercise(app) -> ExerciseView:
    return app.screen.query_one(ExerciseView)


def feedback(app) -> str:
    return str(exercise(app).query_one(".exercise-feedback").render())


async def type_code(pilot, view: ExerciseView, code: str) -> None:
    view.editor.load_text(code)
    await pilot.pause()


async def test_starter_fails_with_the_check_message(make_app, tutor_home, settle, run_cell):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        view = exercise(app)
        await run_cell(pilot, app, view)
        assert feedback(app) == "double(2) should be 4, got None"
        assert [label for label, _, _ in clients[0].executed] == ["exercise 4", "check"]
        assert clients[0].executed[0][2] is not None and clients[0].executed[1][2] is not None, "time limits"
        assert view.attempts == 1 and not view.passed
        assert not exercise(app).query_one(".exercise-solution").display
    from tutor.progress import ProgressStore

    record = ProgressStore.open().lesson("basics").exercises["double"]
    assert record.attempts == 1 and not record.passed


async def test_a_right_answer_passes_and_shows_the_solution(make_app, settle, run_cell):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        view = exercise(app)
        await type_code(pilot, view, "def double(n):\n    return n + n\n")
        await run_cell(pilot, app, view, "ctrl+r")
        assert feedback(app).startswith("Passed")
        assert view.passed and view.border_tone() == "current"
        view.set_current(False)
        assert view.border_tone() == "passed"
        assert view.query_one(".exercise-solution").display


async def test_code_that_raises_is_a_failed_try_without_running_the_check(make_app, settle, run_cell):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        view = exercise(app)
        await type_code(pilot, view, "def double(n):\n    return n +\n")
        await run_cell(pilot, app, view)
        assert "SyntaxError" in feedback(app)
        assert [label for label, _, _ in clients[0].executed] == ["exercise 4"]
        assert view.editor.error_line == 1


async def test_hints_come_one_at_a_time(make_app, settle, focus):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        view = exercise(app)
        await focus(pilot, view)
        await pilot.press("f3")
        await pilot.pause()
        hints = view.query(".exercise-hints Markdown")
        assert len(hints) == 1
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert len(view.query(".exercise-hints Markdown")) == 2
        await pilot.press("f3")  # no third hint: nothing more appears
        await pilot.pause()
        assert len(view.query(".exercise-hints Markdown")) == 2
        assert "(2/2)" in str(view.query_one("#hint").label)


async def test_solution_needs_a_try_and_a_confirmation(make_app, settle, focus):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        view = exercise(app)
        await focus(pilot, view)
        await pilot.press("f10")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen), "no solution before a try"
        await pilot.press("f5")
        await settle(pilot, app)
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert not view.query_one(".exercise-solution").display
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, app)
        assert view.query_one(".exercise-solution").display
    from tutor.progress import ProgressStore

    assert ProgressStore.open().lesson("basics").exercises["double"].solution_revealed


async def test_reset_to_the_starter_asks_first(make_app, settle, focus):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        view = exercise(app)
        await type_code(pilot, view, "def double(n):\n    return 2 * n\n")
        await focus(pilot, view)
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert view.code == view.original_code


async def test_input_is_ignored_while_a_check_runs(make_app, settle, focus):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        view = exercise(app)
        await type_code(pilot, view, "block()\ndef double(n):\n    return 2 * n\n")
        await focus(pilot, view)
        await pilot.press("f5")
        await pilot.pause()
        assert view.checking and view.editor.read_only
        before = view.code
        await pilot.press("x", "y", "f5", "f9")
        await pilot.pause()
        assert view.code == before
        assert not isinstance(app.screen, ConfirmScreen)
        assert len(clients[0].executed) == 1, "a second Check while checking is ignored"
        await pilot.press("f7")
        await settle(pilot, app)
        assert not view.checking and not view.editor.read_only
        assert "Interrupted" in feedback(app)


async def test_a_name_error_with_cells_above_not_run_says_to_run_them(make_app, settle, run_cell):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        view = exercise(app)
        await type_code(pilot, view, "def double(n):\n    return n + undefined_name\n")
        await run_cell(pilot, app, view)
        text = feedback(app)
        assert "NameError" in text
        assert "3 cells above this one have not run since the worker started: press F4" in text


async def test_a_name_error_in_a_cell_counts_the_cells_above_not_run(make_app, settle, cells, run_cell):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        first, second = cells(app)[:2]
        second.editor.load_text("print(x)")
        await run_cell(pilot, app, second)
        assert "A cell above this one has not run since the worker started: press F4 to run it" in second.output.buffer.text()
        await run_cell(pilot, app, first)
        await run_cell(pilot, app, second)
        shown = second.output.buffer.text()
        assert "42" in shown and "not run since" not in shown
