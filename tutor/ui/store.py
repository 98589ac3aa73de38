"""The progress store as the UI uses it: writes (lock, fsync, rename) run in order on one
background thread so they never stall the event loop; reads wait for queued writes, so
they always see them."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from tutor.progress import LessonProgress, ProgressStore


class BackgroundStore:
    """Wraps a :class:`ProgressStore`; every call is safe from the event loop."""

    def __init__(self, store: ProgressStore):
        self.store = store
        self._lock = threading.Lock()  # one caller inside the store at a time
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="progress")
        self._pending: list[Future] = []

    @classmethod
    def open(cls, path: Path | None = None) -> "BackgroundStore":
        return cls(ProgressStore.open(path))

    @property
    def problem(self) -> str | None:
        return self.store.problem

    # -- writes: queued --------------------------------------------------------------

    def _submit(self, method: str, *args) -> None:
        def call() -> None:
            with self._lock:
                getattr(self.store, method)(*args)

        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(self._executor.submit(call))

    def mark_step_seen(self, lesson_id: str, step_id: str) -> None:
        self._submit("mark_step_seen", lesson_id, step_id)

    def record_cell_run(self, lesson_id: str, cell_id: str, ok: bool) -> None:
        self._submit("record_cell_run", lesson_id, cell_id, ok)

    def record_quiz_attempt(self, lesson_id: str, quiz_id: str, answer: str, correct: bool) -> None:
        self._submit("record_quiz_attempt", lesson_id, quiz_id, answer, correct)

    def record_exercise_attempt(self, lesson_id: str, exercise_id: str, passed: bool) -> None:
        self._submit("record_exercise_attempt", lesson_id, exercise_id, passed)

    def reveal_solution(self, lesson_id: str, exercise_id: str) -> None:
        self._submit("reveal_solution", lesson_id, exercise_id)

    def save_code(self, lesson_id: str, cell_id: str, code: str | None) -> None:
        self._submit("save_code", lesson_id, cell_id, code)

    def set_position(self, lesson_id: str, step_id: str) -> None:
        self._submit("set_position", lesson_id, step_id)

    def record_review(self, item, correct: bool, answer: str | None = None) -> None:
        self._submit("record_review", item, correct, answer)

    # -- reads: after the queued writes -------------------------------------------------

    def flush(self) -> None:
        """Wait until every queued write is done (quick: a write is a few milliseconds)."""
        for future in self._pending:
            future.result()
        self._pending.clear()

    def _read(self, method: str, *args):
        return self._call(method, *args)

    def lesson(self, lesson_id: str) -> LessonProgress:
        return self._read("lesson", lesson_id)

    def code_for(self, lesson_id: str, cell_id: str) -> str | None:
        return self._read("code_for", lesson_id, cell_id)

    def last_position(self) -> tuple[str, str] | None:
        return self._read("last_position")

    def due_reviews(self, now: float | None = None):
        return self._read("due_reviews", now)

    def __getattr__(self, name: str):
        # Anything else of ProgressStore (e.g. ``reviews``, ``drop_review``): run in
        # order after the queued writes, on the caller's thread.
        attribute = getattr(self.store, name)
        if not callable(attribute):
            return attribute
        return lambda *args, **kwargs: self._call(name, *args, **kwargs)

    def _call(self, method: str, *args, **kwargs):
        self.flush()
        with self._lock:
            return getattr(self.store, method)(*args, **kwargs)

    def close(self) -> None:
        """Finish the queued writes (called when the app exits)."""
        self.flush()
        self._executor.shutdown(wait=True)
