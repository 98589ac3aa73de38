"""Fixtures for the UI tests: a small torch-free course, an app wired to fake (or real,
torch-free) workers, the cursor blink off, and no torch ever in this process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tutor.lessons import load_catalog
from tutor.ui.app import TutorApp
from tutor.ui.store import BackgroundStore
from tutor.ui.widgets.editor import CodeEditor

sys.path.insert(0, str(Path(__file__).parent))
from fake_client import fake_factory  # noqa: E402

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
def make_app(catalog, tutor_home):
    """``make_app(lesson_id=None, **fake_options)`` -> (app, clients made so far)."""
    def make(lesson_id: str | None = None, factory=None, **options):
        store = BackgroundStore.open()
        factory = factory or fake_factory(**options)
        lesson = catalog.find(lesson_id) if lesson_id else None
        return TutorApp(catalog, store, lesson=lesson, client_factory=factory), factory.clients
    return make
