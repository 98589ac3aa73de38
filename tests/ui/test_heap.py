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


class Node:
    """An object that can be in a cycle and be watched by a weak reference."""

    def __init__(self) -> None:
        self.me = self


async def test_after_a_run_its_garbage_is_collected_and_what_lives_on_is_frozen(monkeypatch):
    import asyncio
    import weakref

    monkeypatch.setattr(heap, "SETTLE_AFTER", 0.01)
    monkeypatch.setattr(heap, "FLOOR", 100)
    gc.unfreeze()
    try:
        heap.freeze_long_lived()  # the page, built
        garbage, survivor = Node(), Node()
        dead = weakref.ref(garbage)
        del garbage  # a cycle: only the collector frees it
        heap.settle_after_run()
        heap.settle_after_run()  # runs in a row: settled once, after the last
        await asyncio.sleep(0.1)
        assert dead() is None, "the run's garbage was collected before the freeze"
        assert not any(o is survivor for o in gc.get_objects()), "what lives on is frozen"

        # Frozen, then garbage: freed once the frozen set has grown by half.
        dies_later = weakref.ref(survivor)
        del survivor
        heap.settle_after_run()
        await asyncio.sleep(0.1)
        assert dies_later() is not None, "a small growth: no full collection yet"
        grown = [Node() for _ in range(gc.get_freeze_count())]  # noqa: F841 - kept alive
        heap.settle_after_run()
        await asyncio.sleep(0.1)
        assert dies_later() is None
    finally:
        gc.unfreeze()
