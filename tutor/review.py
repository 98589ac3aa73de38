"""Spaced repetition: what to ask again, and when (pure; stdlib only).

Leitner boxes. An item enters box 1 when the learner gets a quiz wrong or needs the
solution of an exercise. Each box has an interval before the item comes back:

    box 1: 1 day    box 2: 3 days    box 3: 7 days    box 4: 21 days

A right answer moves the item up one box (due again after that box's interval); a
right answer in box 4 retires it: it is learnt. A wrong answer, or revealing a solution
again, sends it back to box 1. The intervals roughly triple, as in the classic Leitner
schedules, so an item that is answered right four times in a row has been seen over
about a month and then stops coming back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

DAY = 24 * 60 * 60.0
INTERVALS = (1 * DAY, 3 * DAY, 7 * DAY, 21 * DAY)
KINDS = ("quiz", "exercise")


@dataclass(frozen=True)
class ReviewItem:
    """One quiz or exercise in the schedule. ``box`` is 1-based; ``due`` is a Unix time."""

    lesson_id: str
    kind: str  # "quiz" | "exercise"
    item_id: str
    box: int
    due: float

    @property
    def key(self) -> str:
        return review_key(self.lesson_id, self.kind, self.item_id)


def review_key(lesson_id: str, kind: str, item_id: str) -> str:
    """The stable key of an item in the schedule, e.g. ``fundamentals:quiz:shape``."""
    return f"{lesson_id}:{kind}:{item_id}"


def interval(box: int) -> float:
    """Seconds before an item in ``box`` is due again."""
    return INTERVALS[min(max(box, 1), len(INTERVALS)) - 1]


def schedule_new(lesson_id: str, kind: str, item_id: str, now: float) -> ReviewItem:
    """An item the learner just got wrong (or needed the solution for): box 1."""
    if kind not in KINDS:
        raise ValueError(f"unknown review kind '{kind}' (known: {', '.join(KINDS)})")
    return ReviewItem(lesson_id, kind, item_id, 1, now + interval(1))


def after_answer(item: ReviewItem, correct: bool, now: float) -> ReviewItem | None:
    """The item after a review answer; ``None`` when it is retired (learnt)."""
    if not correct:
        return replace(item, box=1, due=now + interval(1))
    if item.box >= len(INTERVALS):
        return None
    box = item.box + 1
    return replace(item, box=box, due=now + interval(box))


def due_items(items, now: float) -> list[ReviewItem]:
    """Items due at ``now``, the longest overdue first."""
    return sorted((i for i in items if i.due <= now), key=lambda i: (i.due, i.key))


def when(item: ReviewItem, now: float) -> str:
    """When an item is due, in words: ``now``, ``in 5 hours``, ``in 3 days``."""
    wait = item.due - now
    if wait <= 0:
        return "now"
    if wait < 60 * 60:
        minutes = max(1, round(wait / 60))
        return f"in {minutes} minute{'s' * (minutes != 1)}"
    hours = round(wait / 3600)
    if hours < 24:
        return f"in {hours} hour{'s' * (hours != 1)}"
    days = max(1, round(wait / DAY))
    return f"in {days} day{'s' * (days != 1)}"
