"""Progress as text, for ``tutor list``, ``tutor progress`` and ``tutor review``."""

from __future__ import annotations

import sys
import time

from tutor.progress import LessonProgress, ProgressStore


def open_store() -> ProgressStore:
    """The learner's store; a problem with the file is printed once, to stderr."""
    store = ProgressStore.open()
    report_problem(store)
    return store


def report_problem(store: ProgressStore) -> None:
    if store.problem:
        print(f"tutor: note: {store.problem}", file=sys.stderr)


def ago(then: float | None, now: float | None = None) -> str:
    """``just now``, ``5 minutes ago``, ``yesterday``, ``3 days ago``, or a date."""
    if then is None:
        return "never"
    now = time.time() if now is None else now
    seconds = max(0.0, now - then)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' * (minutes != 1)} ago"
    if seconds < 86400:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' * (hours != 1)} ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    if days < 14:
        return f"{days} days ago"
    return time.strftime("%Y-%m-%d", time.localtime(then))


def score_text(lesson, progress: LessonProgress) -> str:
    """``3/8 steps  quizzes 2/4  exercises 1/3`` (parts with nothing to count are left out).
    Steps count as done by the progress model's one rule, as in the app."""
    score = progress.score(lesson)
    parts = [f"{score.steps_done}/{score.steps} steps"]
    if score.quizzes:
        parts.append(f"quizzes {score.quizzes_right}/{score.quizzes}")
    if score.exercises:
        parts.append(f"exercises {score.exercises_passed}/{score.exercises}")
    return "  ".join(parts)


def progress_columns(catalog) -> dict[str, str]:
    """lesson id -> a short progress text such as ``3/8 steps  quizzes 2/4``, for
    lessons the learner has started."""
    store = open_store()
    columns = {}
    for lesson in catalog.lessons:
        progress = store.lesson(lesson.id)
        if progress.started:
            columns[lesson.id] = score_text(lesson, progress)
    return columns
