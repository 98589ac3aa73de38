"""The progress store as the app uses it: writes (lock, fsync, rename) run in order on
one background thread so they never stall the event loop; reads wait for queued writes,
so they always see them. A write that fails is reported to ``on_failure``, never lost
in silence."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from tutor.progress.store import ProgressStore


class BackgroundStore:
    """Wraps a :class:`ProgressStore`; every call is safe from the event loop.

    ``on_failure`` gets one line when a queued write raises (called from the writing
    thread: the app posts it as a message)."""

    def __init__(self, store: ProgressStore, on_failure: Callable[[str], None] | None = None):
        self.store = store
        self.on_failure = on_failure
        self._lock = threading.Lock()  # one caller inside the store at a time
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="progress")
        self._pending: list[Future] = []

    @classmethod
    def open(cls, path: Path | None = None, on_failure: Callable[[str], None] | None = None) -> BackgroundStore:
        return cls(ProgressStore.open(path), on_failure)

    # Writes the UI makes while the learner works: queued, in order, on the thread.
    QUEUED_WRITES = frozenset({
        "mark_step_seen", "record_cell_run", "record_quiz_attempt", "record_exercise_attempt",
        "reveal_solution", "save_code", "set_position", "record_review",
    })

    def __getattr__(self, name: str):
        # Everything else of ProgressStore (reads, rare writes such as ``drop_review``)
        # runs on the caller's thread after the queued writes, so it sees them.
        if name.startswith("_") or name in ("store", "on_failure"):
            raise AttributeError(name)
        attribute = getattr(self.store, name)
        if not callable(attribute):
            return attribute
        if name in self.QUEUED_WRITES:
            return lambda *args: self._submit(name, *args)
        return lambda *args, **kwargs: self._call(name, *args, **kwargs)

    def _submit(self, method: str, *args) -> None:
        def call() -> None:
            with self._lock:
                getattr(self.store, method)(*args)

        self._pending = [f for f in self._pending if not f.done()]
        future = self._executor.submit(call)
        future.add_done_callback(lambda done, method=method: self._check(done, method))
        self._pending.append(future)

    def _check(self, future: Future, method: str) -> None:
        error = None if future.cancelled() else future.exception()
        if error is not None and self.on_failure is not None:
            self.on_failure(f"progress not saved ({method.replace('_', ' ')}): {type(error).__name__}: {error}")

    def flush(self) -> None:
        """Wait until every queued write is done (quick: a write is a few milliseconds).
        A write that failed was reported to ``on_failure``; without one, it raises here."""
        pending, self._pending = self._pending, []
        for future in pending:
            if self.on_failure is None:
                future.result()
            else:
                future.exception()  # waits; the error itself went to on_failure

    def _call(self, method: str, *args, **kwargs):
        self.flush()
        with self._lock:
            return getattr(self.store, method)(*args, **kwargs)

    def close(self) -> None:
        """Finish the queued writes (called when the app exits)."""
        self.flush()
        self._executor.shutdown(wait=True)
