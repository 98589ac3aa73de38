"""File cells and shell cells in the app: the path (or "shell") is the cell's title,
shell text is highlighted as bash, and with the real worker (no torch) they run,
a looping command stops at F7 with the variables kept, and a shell exercise is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.lessons import load_catalog
from tutor.progress.background import BackgroundStore
from tutor.ui.app import TutorApp, default_client_factory
from tutor.ui.widgets.exercise import ExerciseView

pytestmark = pytest.mark.timeout(90)

COURSE = Path(__file__).parent / "files_course"


def files_app() -> TutorApp:
    catalog = load_catalog(COURSE)
    return TutorApp(catalog, BackgroundStore.open(), lesson=catalog.find("files"),
                    client_factory=default_client_factory(prewarm=False))


async def until(pilot, condition, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting")


async def test_a_file_cell_is_titled_by_its_path_and_a_shell_cell_reads_as_bash(cells, tutor_home):
    app = files_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.screen.idle and len(cells(app)) == 4)
        engine, listing, loop, exercise = cells(app)
        assert engine.header.startswith("[1] going_modular/engine.py")
        assert listing.header.startswith("[2] shell") and loop.header.startswith("[3] shell")
        assert exercise.header.startswith("[4] exercise · shell")
        assert (engine.editor.language, listing.editor.language, exercise.editor.language) == ("python", "bash", "bash")


async def test_file_and_shell_cells_run_and_a_loop_stops_at_f7(cells, focus, tutor_home):
    app = files_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.screen.idle and len(cells(app)) == 4)
        engine, listing, loop, _ = cells(app)
        await focus(pilot, engine)
        await pilot.press("f6")  # run, then the next cell
        await until(pilot, lambda: app.screen.idle and engine.last_status == "ok")
        assert engine.output.buffer.text() == "Wrote going_modular/engine.py (2 lines)"
        from tutor import config

        assert (config.workspace_dir("files") / "going_modular" / "engine.py").read_text().startswith("def double")
        await focus(pilot, listing)
        await pilot.press("f5")
        await until(pilot, lambda: app.screen.idle and listing.last_status is not None)
        assert listing.last_status == "ok" and listing.output.buffer.text() == "engine.py\n42"
        await focus(pilot, loop)
        await pilot.press("f5")
        await until(pilot, lambda: loop.running)
        await pilot.pause(0.5)
        await pilot.press("f7")
        await until(pilot, lambda: app.screen.idle and not loop.running)
        assert loop.last_status == "interrupted"
        assert "worker restarted" not in app.screen.query_one("StatusLine").plain


async def test_a_shell_exercise_is_checked(cells, focus, tutor_home):
    app = files_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.screen.idle and len(cells(app)) == 4)
        exercise = app.screen.query_one(ExerciseView)
        await focus(pilot, exercise)
        await pilot.press("f5")
        await until(pilot, lambda: app.screen.idle and exercise.attempts == 1)
        assert not exercise.passed
        exercise.editor.load_text("echo hi")
        await pilot.press("f5")
        await until(pilot, lambda: app.screen.idle and exercise.attempts == 2)
        assert exercise.passed
