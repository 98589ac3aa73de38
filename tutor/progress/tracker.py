"""One lesson's progress while the learner works in it.

Each record goes to the store (which may write in the background) and into a snapshot
kept here, so what counts as done is known at once, by the one rule of
:class:`~tutor.progress.records.LessonProgress`, without reading the store back.

    tracker = LessonTracker(store, lesson)
    tracker.step_seen("tensors"); tracker.cell_ran("tensors-cell1", ok=True)
    tracker.done_steps()   # {"tensors"} once every block of that step is done
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tutor.progress.records import LessonProgress


class LessonTracker:
    def __init__(self, store, lesson, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store  # a ProgressStore, or the app's BackgroundStore
        self.lesson = lesson
        self.progress: LessonProgress = store.lesson(lesson.id)
        self._clock = clock

    def step_seen(self, step_id: str) -> None:
        """The learner is in this step: seen, and where "continue" comes back to."""
        self.store.mark_step_seen(self.lesson.id, step_id)
        self.store.set_position(self.lesson.id, step_id)
        self.progress = self.progress.with_step_seen(step_id)

    def cell_ran(self, cell_id: str, ok: bool) -> None:
        self.store.record_cell_run(self.lesson.id, cell_id, ok)
        self.progress = self.progress.with_cell_run(cell_id, ok)

    def quiz_answered(self, quiz_id: str, answer: str, correct: bool) -> None:
        self.store.record_quiz_attempt(self.lesson.id, quiz_id, answer, correct)
        self.progress = self.progress.with_quiz_attempt(quiz_id, answer, correct, self._clock())

    def exercise_tried(self, exercise_id: str, passed: bool) -> None:
        self.store.record_exercise_attempt(self.lesson.id, exercise_id, passed)
        self.progress = self.progress.with_exercise_attempt(exercise_id, passed)

    def done_steps(self) -> set[str]:
        return self.progress.done_steps(self.lesson)
