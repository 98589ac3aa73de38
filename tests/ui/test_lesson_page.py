"""The lesson screen's parts: messages matched by their control, and jumps where a
newer one drops an older one still mounting."""

from __future__ import annotations

from textual import on

from tutor.ui.messages import RunEnded
from tutor.ui.screens import lesson as lesson_module


async def test_run_messages_match_a_cell_by_its_id(make_app, monkeypatch, settle, cells, run_cell):
    heard: list[str] = []

    class Watching(lesson_module.LessonScreen):
        @on(RunEnded, "#cell-printing-cell2")
        def second_cell_ended(self, message: RunEnded) -> None:
            heard.append(f"ended {message.cell.cell_id} {message.outcome.status}")

        @on(RunEnded, "CodeCellView")
        def a_cell_ended(self, message: RunEnded) -> None:
            heard.append(f"a code cell ended: {message.control.cell_id}")

    monkeypatch.setattr(lesson_module, "LessonScreen", Watching)
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await run_cell(pilot, app, cells(app)[0])
        await run_cell(pilot, app, cells(app)[1])
    # (a cell's run may report more than once: each fact heard once here)
    assert heard == ["a code cell ended: printing-cell1", "ended printing-cell2 ok",
                     "a code cell ended: printing-cell2"]


async def test_a_newer_jump_drops_an_older_one(make_app, settle):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        screen.go_to_step("exercise")  # still mounting the steps above it...
        screen.go_to_step("errors")  # ...when the learner jumps again
        jumps = [w for w in app.workers if w.group == "jump"]
        await settle(pilot, app)
        assert len(jumps) == 2 and jumps[0].is_cancelled and jumps[1].state.name == "SUCCESS"
        assert screen.current_step == "errors"
        assert screen.current is screen.page.step_cells("errors")[0]
