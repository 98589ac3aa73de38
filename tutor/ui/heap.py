"""Keeping Python's cycle collector from stalling the event loop.

A full collection walks every object the process tracks. With a lesson open that is
every widget of its page: measured on the 2-core machine, one full collection while
``live.log`` streamed took 125-160 ms, the worst stall of the event loop in
``benchmarks/ui_bench.py``. The widgets of an open lesson live as long as it is
open, so once it is laid out they are frozen (:func:`gc.freeze`): collections skip
them. When the lesson closes they are thawed, and collected a moment later (once
Textual has let go of the screen), so that its widgets, which refer to each other,
are freed.
"""

from __future__ import annotations

import gc

COLLECT_AFTER = 1.0  # seconds after a lesson closed: the learner is reading the home screen


def freeze_long_lived() -> None:
    """Everything alive now lives long: leave it out of future collections."""
    gc.freeze()


def thaw(app) -> None:
    """Long-lived objects are about to become garbage: let the collector see them
    again, and collect them shortly (a pause the learner does not wait on)."""
    gc.unfreeze()
    app.set_timer(COLLECT_AFTER, gc.collect)
