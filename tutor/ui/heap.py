"""Keeping Python's cycle collector from stalling the event loop.

A full collection walks every object the process tracks. With a lesson open that is
every widget of its page: measured on the 2-core machine, one full collection while
``live.log`` streamed took 125-160 ms, the worst stall of the event loop in
``benchmarks/ui_bench.py``. The widgets of an open lesson live as long as it is
open, so once it is laid out they are frozen (:func:`gc.freeze`): collections skip
them. So is what each run builds, shortly after it ends, once the garbage it left is
collected. When the lesson closes they are thawed, and collected a moment later (once
Textual has let go of the screen), so that its widgets, which refer to each other,
are freed.
"""

from __future__ import annotations

import asyncio
import gc

COLLECT_AFTER = 1.0  # seconds after a lesson closed: the learner is reading the home screen
SETTLE_AFTER = 0.1  # seconds after a run ended (runs in a row: after the last)
_settling: asyncio.TimerHandle | None = None
REGROW = 1.5  # a full collection once the frozen set grew by half since the last
FLOOR = 50_000  # (objects; a lesson's page alone is more)
_clean = 0  # objects frozen after the last full collection


def freeze_long_lived() -> None:
    """Everything alive now lives long: leave it out of future collections."""
    global _clean
    gc.freeze()
    _clean = max(_clean, gc.get_freeze_count())


def settle_after_run() -> None:
    """A run ended: what it left behind is either garbage (a traceback's frames refer to
    each other) or lives as long as the lesson (its output's widgets, the caches of
    what they drew). Shortly after (once the run's last messages are handled and let
    go, and after the last of several runs in a row), collect the first and freeze the
    rest, so that the next run's full collection does not walk them all (40-60 ms
    stalls while a cell printed 10^5 lines). Quick: everything older is frozen, so the
    collection walks only what was made since. (Frozen without it, a failing cell run
    300 times kept 130,000 objects, 10 MB, until the lesson closed.)"""
    global _settling
    if _settling is not None:
        _settling.cancel()
    _settling = asyncio.get_running_loop().call_later(SETTLE_AFTER, _collect_and_freeze)


def _collect_and_freeze() -> None:
    """The timer's end: collect what the runs left and freeze the rest; a full collection
    when the frozen set grew by half."""
    global _settling, _clean
    _settling = None
    # Something frozen may die later in a cycle (a widget's old render caches): only a
    # full collection frees that. Once the frozen set grew by half since the last one
    # (a learner re-running a failing cell a hundred times), thaw it all and collect
    # now, a moment after a run, rather than leave it until the lesson closes.
    gc.collect()
    gc.freeze()
    if gc.get_freeze_count() > REGROW * max(_clean, FLOOR):
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _clean = gc.get_freeze_count()


def thaw(app) -> None:
    """Long-lived objects are about to become garbage: let the collector see them
    again, and collect them shortly (a pause the learner does not wait on)."""
    global _settling, _clean
    if _settling is not None:  # it would freeze the closing lesson again
        _settling.cancel()
        _settling = None
    gc.unfreeze()
    _clean = 0
    app.set_timer(COLLECT_AFTER, gc.collect)
