"""Fixtures for the UI tests: a small torch-free course, an app wired to fake (or real,
torch-free) workers, the cursor blink off, no torch ever in this process, and the
helpers every test module shares (``settle``, ``cells``, ``focus``, ``run_cell``,
``drawn``, ``screen_text``, ``footer_labels``), which wait on the app's public state."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tutor.lessons import load_catalog
from tutor.progress.background import BackgroundStore
from tutor.ui.app import TutorApp
from tutor.ui.screens.lesson import LessonScreen
from tutor.ui.widgets.cell import RunnableCell
from tutor.ui.widgets.editor import CodeEditor
from tutor.ui.widgets.key_footer import KeyFooter

import fake_client  # tests/ui/fake_client.py (pytest puts this folder on the path for conftest)
import screen_text as screen_text_module

COURSE = Path(__file__).parent / "course"


def pytest_collection_modifyitems(items):
    """A hung UI test fails after a minute instead of stalling CI."""
    for item in items:
        if "tests/ui/" in str(item.fspath).replace("\\", "/") and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(120))


@pytest.fixture(autouse=True)
def no_blink(monkeypatch):
    monkeypatch.setattr(CodeEditor, "blink", False)


@pytest.fixture(autouse=True)
def never_torch():
    # Other suites in this pytest process may load torch on purpose; what matters is
    # that nothing a UI test does loads it (tests/unit/test_import_hygiene.py also
    # checks every tutor.ui module in a fresh interpreter).
    already = "torch" in sys.modules
    yield
    assert already or "torch" not in sys.modules, "the UI process must never import torch"


@pytest.fixture
def catalog():
    return load_catalog(COURSE)


@pytest.fixture
def fake_factory():
    """``fake_factory(**options)``: a client factory of in-process fake workers
    (tests/ui/fake_client.py) that records the clients it made in ``.clients``."""
    return fake_client.fake_factory


@pytest.fixture
def make_app(catalog, tutor_home, fake_factory):
    """``make_app(lesson_id=None, **fake_options)`` -> (app, clients made so far)."""
    def make(lesson_id: str | None = None, factory=None, **options):
        store = BackgroundStore.open()
        factory = factory or fake_factory(**options)
        lesson = catalog.find(lesson_id) if lesson_id else None
        return TutorApp(catalog, store, lesson=lesson, client_factory=factory), factory.clients
    return make


# -- helpers shared by the test modules ------------------------------------------------


async def _settle(pilot, app) -> None:
    """Wait until the lesson is mounted, jumps are done, queued runs finished, and
    every message was handled."""
    for _ in range(100):
        await pilot.pause()
        screen = app.screen
        if not isinstance(screen, LessonScreen) or screen.idle:
            await pilot.pause()
            return
    raise AssertionError("runs did not finish")


def _cells(app) -> list[RunnableCell]:
    return list(app.screen.query(RunnableCell))


async def _focus(pilot, cell: RunnableCell) -> None:
    """Focus the cell's editor and wait until the screen has made it the current cell."""
    cell.editor.focus()
    for _ in range(50):
        await pilot.pause()
        screen = pilot.app.screen
        if cell.editor.has_focus and (not isinstance(screen, LessonScreen) or screen.current is cell):
            return
    raise AssertionError(f"{cell.label} did not become the current cell")


async def _run_cell(pilot, app, cell: RunnableCell, key: str = "f5") -> None:
    """Focus ``cell``, press ``key``, wait until the runs are over."""
    await _focus(pilot, cell)
    await pilot.press(key)
    await _settle(pilot, app)


async def _drawn(pilot, app) -> None:
    """Wait for charts drawn in threads to reach the screen."""
    for _ in range(3):
        drawing = [w for w in app.workers if w.group == "chart-draw"]
        if drawing:  # (an empty list would wait for every worker, the run loop too)
            await app.workers.wait_for_complete(drawing)
        await pilot.pause()


@pytest.fixture
def settle():
    """``await settle(pilot, app)``: the lesson screen is idle (see LessonScreen.idle)."""
    return _settle


@pytest.fixture
def cells():
    """``cells(app)``: the runnable cells of the screen, in order."""
    return _cells


@pytest.fixture
def focus():
    """``await focus(pilot, cell)``: put the cursor in the cell's editor."""
    return _focus


@pytest.fixture
def run_cell():
    """``await run_cell(pilot, app, cell, key="f5")``: focus, press, settle."""
    return _run_cell


@pytest.fixture
def drawn():
    """``await drawn(pilot, app)``: the charts being drawn have reached the screen."""
    return _drawn


@pytest.fixture
def screen_text():
    """``screen_text(app)``: the screen as plain text, as a person reads it."""
    return screen_text_module.screen_text


@pytest.fixture
def footer_labels():
    """``footer_labels(app)``: the footer's keys as ``"f5 Run"``, in order."""
    from textual.widgets._footer import FooterKey

    return lambda app: [f"{key.key_display} {key.description}"
                        for key in app.screen.query_one(KeyFooter).query(FooterKey)]
