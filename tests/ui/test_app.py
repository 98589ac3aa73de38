"""The app around the screens: start-up, the worker status, saved code, the palette,
small terminals, and the command line's errors."""

from __future__ import annotations

import pytest

from tutor.sandbox.events import ResourcesMeasured, WarmupChanged, WorkerInfo, WorkerState, WorkerStateChanged
from tutor.ui.screens.home import HomeScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.execution.session import SandboxSession, device_text, memory_text, state_text
from tutor.ui.widgets.status_line import StatusLine


def session_with(info=None, resources=None, state=WorkerState.READY) -> SandboxSession:
    session = SandboxSession("x", None)
    session.observe(WorkerStateChanged(state, "worker died: segmentation fault" if state is WorkerState.CRASHED
                                       else None, info))
    if resources:
        session.observe(resources)
    return session


def test_status_words_for_cuda_cpu_and_states():
    cuda = WorkerInfo(1, "2.14", "cuda:0", "NVIDIA H100", 80 * 10**9)
    session = session_with(cuda, ResourcesMeasured(2 * 2**30, 8 * 2**30, 3_000_000_000, 3_100_000_000))
    # one unit everywhere (GiB, as tutor doctor and the kill messages say it)
    assert device_text(session) == "CUDA 0 · NVIDIA H100 · 2.9/74.5 GiB"
    assert memory_text(session) == "RAM 2.0 GiB / 8.0 GiB"
    assert device_text(session_with(WorkerInfo(1, None, "cpu", "", None))) == "CPU"
    assert device_text(SandboxSession("x", None)) == "device: …"
    crashed = session_with(state=WorkerState.CRASHED)
    assert state_text(crashed) == "crashed: worker died: segmentation fault"
    warming = session_with(cuda)
    warming.observe(WarmupChanged("warming", None))
    assert state_text(warming) == "ready · warming GPU"
    warming.observe(WarmupChanged("warm", "4.61"))
    assert state_text(warming) == "ready"
    on_cpu = session_with(WorkerInfo(1, "2.14", "cpu", "", None))
    on_cpu.observe(WarmupChanged("warming", None))
    assert state_text(on_cpu) == "ready · warming up"
    on_cpu.observe(WarmupChanged("failed", "RuntimeError: no"))
    assert state_text(on_cpu) == "ready"
    running = session_with()
    running.observe(WorkerStateChanged(WorkerState.RUNNING, None, None))
    running.running_label = "cell 3"
    assert state_text(running) == "running cell 3"


def test_a_new_worker_generation_forgets_setup_cells():
    session = session_with()
    session.memory.setup_ran("s")
    assert not session.memory.setup_needed("s")
    session.observe(WorkerStateChanged(WorkerState.RESTARTING, None, None))
    session.observe(WorkerStateChanged(WorkerState.READY, None, None))
    assert session.memory.setup_needed("s") and session.generation == 1


async def test_the_worker_starts_at_launch_and_its_state_shows(make_app, settle):
    app, clients = make_app(device="cuda:0", device_name="NVIDIA H100", gpu_total=80 * 10**9)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert len(clients) == 1, "the likely lesson's worker starts before it is opened"
        await pilot.pause()
        status = app.screen.query_one(StatusLine).plain
        assert "CUDA 0 · NVIDIA H100 · 2.9/74.5 GiB" in status and "ready" in status
        await pilot.press("enter")
        await settle(pilot, app)
        assert len(clients) == 1, "opening that lesson reuses its worker"


async def test_a_slow_worker_does_not_hold_up_the_screen(make_app, cells):
    app, clients = make_app("basics", start_delay=60)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        assert "starting" in app.screen.query_one(StatusLine).plain
        await pilot.press("f5")  # queued until the worker is ready
        await pilot.pause()
        assert "queued" in cells(app)[0].header or cells(app)[0].running


async def test_edited_code_survives_a_restart_of_the_tutor(make_app, settle, cells, focus):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await focus(pilot, cells(app)[0])
        await pilot.press("end", "#", "!")
        await pilot.pause()
    app, _ = make_app("basics")  # a new tutor, the same TUTOR_HOME
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert cells(app)[0].code.startswith("x = 6 * 7#!")
        assert "edited" in cells(app)[0].header


async def test_continue_returns_to_the_last_step(make_app, settle, screen_text):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        app.screen.go_to_step("exercise")
        await settle(pilot, app)
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Continue: 00 Basics › Exercise" in screen_text(app)
        await pilot.press("c")
        await settle(pilot, app)
        assert app.screen.current_step == "exercise"


async def test_palette_jumps_to_a_lesson_and_to_a_step(make_app, settle):
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"lesson 01 charts")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "charts"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"step 00.3 exercise")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.screen.lesson.id == "basics" and app.screen.current_step == "exercise"


async def test_palette_restarts_the_worker(make_app, settle):
    app, clients = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"restart worker")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot, app)
        assert clients[0].restarts == 1


@pytest.mark.parametrize("size", [(80, 24), (60, 20), (40, 12), (20, 6), (10, 3)])
async def test_small_terminals_do_not_crash(make_app, size, settle, screen_text):
    app, _ = make_app("basics")
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        await pilot.press("f5")
        await settle(pilot, app)
        await pilot.press("f2", "escape", "f1")
        await pilot.pause()
        screen_text(app)


async def test_resizing_keeps_working(make_app, settle, screen_text):
    app, _ = make_app("charts")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("f5")
        await settle(pilot, app)
        for size in [(80, 24), (30, 10), (150, 50), (80, 24)]:
            await pilot.resize_terminal(*size)
            await pilot.pause()
        assert app.screen.toc.shown is False
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert app.screen.toc.shown is True
        assert "loss" in screen_text(app)


def test_an_unknown_lesson_is_one_line_before_the_app_starts(tutor_home):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "tutor", "no-such-lesson"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith("tutor: no lesson 'no-such-lesson'") and out.stderr.count("\n") == 1
    assert out.stdout == ""


def test_without_a_terminal_the_tutor_says_so(tutor_home):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "tutor"], capture_output=True, text=True, timeout=60,
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 2
    assert "needs a terminal" in out.stderr and out.stderr.count("\n") == 1


async def test_due_reviews_show_on_home_and_r_opens_them(make_app, screen_text):
    import time

    from tutor.progress import ProgressStore
    from tutor.ui.screens.review import ReviewScreen

    past = ProgressStore.open(clock=lambda: time.time() - 3 * 86400)
    past.record_quiz_attempt("basics", "answer", "41", False)
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "1 to review · press r" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)


async def test_a_damaged_progress_file_is_reported(make_app, tutor_home, screen_text):
    (tutor_home / "progress.json").write_text("{ this is not json")
    app, _ = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "damaged" in screen_text(app)


def test_the_palette_offers_the_theme(make_app):
    app, _ = make_app()
    titles = [c.title for c in app.get_system_commands(HomeScreen(app.catalog, app.store))]
    assert "Theme" in titles and "Lesson 00 Basics" in titles and "Step 00.3 Exercise" in titles
