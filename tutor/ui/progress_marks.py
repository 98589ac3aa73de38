"""What the learner did in one open lesson, recorded and marked: a step entered, a run
ended, a quiz answered, a solution revealed go to the lesson's progress (a
``LessonTracker``: ``tutor/progress/tracker.py``), and the contents' marks are drawn
again from the one rule of what counts as done (``tutor/progress/records.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from tutor.execution import Job, Outcome
from tutor.lessons.model import Lesson
from tutor.progress import LessonTracker
from tutor.ui.widgets.toc import StepList


class ProgressMarks:
    """One lesson screen's progress: recorded, and marked in its contents."""

    def __init__(self, store, lesson: Lesson, contents: Callable[[], StepList]) -> None:
        """``contents`` gives the screen's ``StepList`` (it is mounted after this is made)."""
        self.tracker = LessonTracker(store, lesson)
        self._store = store
        self._lesson_id = lesson.id
        self._contents = contents  # the screen's StepList, once mounted

    def done_steps(self) -> set[str]:
        """The steps done, by the one rule (``tutor/progress/records.py``)."""
        return self.tracker.done_steps()

    def step_entered(self, step_id: str) -> None:
        """Seen, where "continue" comes back to, and the contents' marks."""
        self.tracker.step_seen(step_id)
        self._contents().mark(current=step_id)
        self.refresh()

    def run_ended(self, cell_id: str, job: Job, outcome: Outcome) -> None:
        """A check counts as a try; a plain run that finished, as a run of the cell."""
        if job.is_check:
            self.tracker.exercise_tried(cell_id, bool(outcome.passed))
        elif outcome.finished is not None:
            self.tracker.cell_ran(cell_id, outcome.code_ran)
        self.refresh()

    def quiz_answered(self, quiz_id: str, answer: str, correct: bool) -> None:
        """Record a graded try; a right one may finish its step."""
        self.tracker.quiz_answered(quiz_id, answer, correct)
        self.refresh()

    def solution_revealed(self, cell_id: str) -> None:
        """Record that the learner saw the solution before passing (the review schedules the
        exercise again)."""
        self._store.reveal_solution(self._lesson_id, cell_id)

    def refresh(self) -> None:
        """Draw the contents' done marks again."""
        self._contents().mark(done=self.tracker.done_steps())
