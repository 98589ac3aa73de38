"""The app with sessions (Pilot, real session hosts, the worker without torch): runs
from before the app attached show in their cells, quitting while a cell runs asks,
the home screen lists what runs on, a second app asks before it takes over."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest
from session_helpers import FAKE_SSH, assert_gone, host_family, runtime_dir_of, until

from tutor.lessons import load_catalog
from tutor.progress.background import BackgroundStore
from tutor.sandbox.events import CellStarted, OutputStreamed
from tutor.sessions import places
from tutor.sessions.client import REQUEST_TAG
from tutor.ui import session_keeper
from tutor.ui.app import TutorApp
from tutor.ui.screens.confirm import ConfirmScreen
from tutor.ui.screens.home import HomeScreen
from tutor.ui.screens.leave import LeaveScreen
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.cell import RunnableCell
from tutor.ui.widgets.editor import CodeEditor
from tutor.ui.widgets.status_line import StatusLine

pytestmark = pytest.mark.timeout(120)

COURSE = Path(__file__).parent / "course"
SETTINGS = session_keeper.SessionSettings(prewarm=False)


@pytest.fixture(autouse=True)
def no_blink(monkeypatch):
    monkeypatch.setattr(CodeEditor, "blink", False)


def make_app(lesson_id: str | None = None, settings: session_keeper.SessionSettings = SETTINGS) -> TutorApp:
    catalog = load_catalog(COURSE)
    holder: list[TutorApp] = []
    factory = session_keeper.client_factory(
        settings, catalog, ask_takeover=lambda busy: session_keeper.ask_takeover(holder[0], busy))
    app = TutorApp(catalog, BackgroundStore.open(), lesson=catalog.find(lesson_id) if lesson_id else None,
                   client_factory=factory)
    holder.append(app)
    return app


async def wait_for(pilot, condition, seconds: float = 30.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)


def cell(app, cell_id: str) -> RunnableCell:
    return next(c for c in app.screen.query(RunnableCell) if c.cell_id == cell_id)


def output_of(app, cell_id: str) -> str:
    found = cell(app, cell_id)
    return found.output.buffer.text() if found._output is not None else ""


def status(app) -> str:
    return app.screen.query_one(StatusLine).plain


def session(lesson_id: str):
    return next(s for s in places.list_sessions() if s.lesson_id == lesson_id)


async def start_long_run_elsewhere(make_client, options):
    """An earlier app: runs lesson 01's long cell, tagged as the app tags it, and leaves."""
    client = await make_client(options("long", title="01"))
    REQUEST_TAG.set({"lesson": "long", "cell": "long-cell1", "run": "r1", "phase": "code", "check": False,
                     "title": "Long"})
    code = load_catalog(COURSE).find("long").cells()[0].code
    run = client.execute(code, label="cell 1")
    while True:
        event = await run.__anext__()
        if isinstance(event, OutputStreamed) and "epoch 2" in event.text:
            break
    await client.detach()
    await run.aclose()


async def test_a_run_from_before_shows_in_its_cell_and_goes_on(make_client, options):
    await start_long_run_elsewhere(make_client, options)
    app = make_app("long")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.settled, what="the lesson")
        await wait_for(pilot, lambda: "epoch 5" in output_of(app, "long-cell1"), what="the replayed output")
        text = output_of(app, "long-cell1")
        assert text.startswith("epoch 0\nepoch 1\nepoch 2")  # what ran before it attached, in order
        assert "(from before)" in status(app)
        assert cell(app, "long-cell1").running
        await pilot.press("f7")  # Stop reaches the run it did not start
        await wait_for(pilot, lambda: not cell(app, "long-cell1").running, what="the interrupt")
        assert "KeyboardInterrupt" in output_of(app, "long-cell1")
        assert "(from before)" not in status(app)


async def test_quitting_while_a_cell_runs_asks_and_keep_leaves_it_running(options):
    app = make_app("long")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.settled, what="the lesson")
        first = cell(app, "long-cell1")
        first.editor.focus()
        await pilot.press("f5")
        await wait_for(pilot, lambda: "epoch 1" in output_of(app, "long-cell1"), what="the run")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, LeaveScreen), what="the question")
        assert app.screen.running == ["cell 1 of 01 A long run"]  # the lesson as the learner knows it
        await pilot.press("k")
    listed = session("long")
    assert listed.state == "running" and not listed.attached
    assert listed.running == "Long"  # the step's title, from the request's tag


async def test_quitting_and_stopping_leaves_nothing(options):
    app = make_app("long")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.settled, what="the lesson")
        cell(app, "long-cell1").editor.focus()
        await pilot.press("f5")
        await wait_for(pilot, lambda: "epoch 1" in output_of(app, "long-cell1"), what="the run")
        pids = host_family(session("long").pid)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, LeaveScreen), what="the question")
        await pilot.press("s")
    assert_gone(pids)
    assert places.list_sessions() == []


async def test_quitting_with_nothing_running_leaves_nothing(options):
    app = make_app("train")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.settled, what="the lesson")
        await wait_for(pilot, lambda: places.list_sessions() != [], what="the session")
        pids = host_family(session("train").pid)
        await pilot.press("ctrl+q")
    # The host ends its worker gently, then its spare (which may be importing torch):
    # seconds on a loaded machine, where 10 s was seen to fall short.
    assert_gone(pids, timeout=30)
    assert places.list_sessions() == []


async def test_home_lists_what_runs_on_and_enter_shows_it(make_client, options):
    await start_long_run_elsewhere(make_client, options)
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen) and app.background, what="the listing")
        from textual.widgets import OptionList

        options_list = app.screen.query_one(OptionList)
        first = options_list.get_option_at_index(0)
        assert first.id == "session:long"
        assert re.search(r"01 A long run · Long, (just now|\d+ s ago)", str(first.prompt))
        options_list.highlighted = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.settled, what="the lesson")
        await wait_for(pilot, lambda: "epoch 2" in output_of(app, "long-cell1"), what="the replay")


async def test_a_second_app_asks_before_taking_over(make_client, options):
    holder = await make_client(options("train", title="00"))
    await until(lambda: holder.link_state == "attached", what="the first app")
    app = make_app("train")
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "open in another tutor" in app.screen.question
        await pilot.press("y")
        await wait_for(pilot, lambda: "ready" in status(app), what="the worker")
        await until(lambda: holder.link_state == "detached", what="the first app to let go")
        await pilot.press("ctrl+q")


async def test_with_remote_the_cells_run_over_there_and_quitting_leaves_nothing(far_home, tutor_home):
    """tutor --remote gpu-box (through the fake ssh): the status line names the machine,
    a cell runs there, in a workspace there; quitting with nothing running ends it."""
    remote = session_keeper.SessionSettings(prewarm=False, remote="gpu-box", ssh_command=" ".join(FAKE_SSH),
                                            remote_python=sys.executable)
    app = make_app("train", remote)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.settled, what="the lesson")
        await wait_for(pilot, lambda: "ready" in status(app), what="the far worker")
        assert "gpu-box" in status(app)
        first = app.screen.cells[0]
        first.editor.focus()
        await pilot.press("f5")
        await wait_for(pilot, lambda: "epoch 11" in output_of(app, first.cell_id) and not first.running,
                       what="the run")
        assert places.list_sessions(runtime_dir_of(far_home)) != []  # the session is over there
        await pilot.press("ctrl+q")
    assert (far_home / "workspace" / "train").is_dir() and not (tutor_home / "workspace" / "train").exists()
    assert places.list_sessions(runtime_dir_of(far_home)) == [] and places.list_sessions() == []


def test_the_status_line_names_the_remote_machine_and_the_link():
    from tutor.execution.session import SandboxSession, device_text, state_text
    from tutor.sandbox.events import ResourcesMeasured, WorkerInfo, WorkerState, WorkerStateChanged
    from tutor.sessions.events import LinkChanged

    session = SandboxSession("03", None)
    session.observe(LinkChanged("attached", None, "gpu-box"))
    session.observe(WorkerStateChanged(WorkerState.READY, None,
                                       WorkerInfo(7, "2.14", "cuda:0", "H100", 80 * 2**30)))
    session.observe(ResourcesMeasured(10**9, None, 3 * 2**30, int(3.1 * 2**30)))
    assert device_text(session) == "gpu-box · CUDA 0 · H100 · 3.1/80.0 GiB"
    assert state_text(session) == "ready"
    session.observe(LinkChanged("reconnecting", "no word from gpu-box for 6 s; the cell goes on there.", "gpu-box"))
    assert state_text(session).startswith("no word from gpu-box")
    session.observe(LinkChanged("attached", None, "gpu-box"))
    assert state_text(session) == "ready"
    here = SandboxSession("03", None)
    here.observe(WorkerStateChanged(WorkerState.READY, None, WorkerInfo(7, None, "cpu", "", None)))
    assert device_text(here) == "CPU"


def test_coming_back_to_a_run_left_going_says_a_cell_of_that_step_runs():
    """The host names a run by its step's title: the news says so, not "<title> is still
    running" (which read as if the step itself ran)."""
    from tutor.sessions.events import SessionAttached

    back = SessionAttached("computer-vision", "03", 1, 0.0, True, "One image: channels, height, width", {}, None, "")
    assert session_keeper.news(back) == (
        "Back in lesson 03: your cell in “One image: channels, height, width” is still running.", "information")
