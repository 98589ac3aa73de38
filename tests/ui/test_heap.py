"""A lesson's widgets are left out of cycle collections while it is open (a full
collection walked them all, stalling the event loop), and collected once it closes."""

from __future__ import annotations

import gc

from tutor.ui import heap
from tutor.ui.screens.home import HomeScreen
from tutor.ui.screens.lesson import LessonScreen



async def test_an_open_lesson_is_frozen_and_collected_after_it_closes(make_app, monkeypatch, settle):
    collections = []
    monkeypatch.setattr(heap, "COLLECT_AFTER", 0.05)
    monkeypatch.setattr(heap.gc, "collect", lambda *a: collections.append(a) or 0)
    gc.unfreeze()
    app, _ = make_app("basics")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, LessonScreen) and app.screen.settled
        assert gc.get_freeze_count() > 0
        lesson = app.screen
        await pilot.press("escape", "escape")  # leave the editor, then the lesson
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        assert gc.get_freeze_count() == 0
        await pilot.pause(0.2)
        assert collections, "a collection follows, to free the lesson's widgets"
        # Nothing of the app's keeps the closed lesson alive (its theme callback did).
        assert lesson not in app.theme_changed_signal._subscriptions
