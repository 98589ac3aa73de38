"""The Leitner schedule: boxes, intervals, retirement."""

from __future__ import annotations

import pytest

from tutor.review import DAY, INTERVALS, ReviewItem, after_answer, due_items, schedule_new, when

NOW = 1_700_000_000.0


def test_a_new_item_starts_in_box_one_due_a_day_later():
    item = schedule_new("l", "quiz", "q", NOW)
    assert item == ReviewItem("l", "quiz", "q", 1, NOW + DAY)
    assert item.key == "l:quiz:q"


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown review kind"):
        schedule_new("l", "cell", "c", NOW)


def test_right_answers_climb_with_growing_intervals_then_retire():
    item = schedule_new("l", "quiz", "q", NOW)
    waits = []
    while item is not None:
        previous = item
        item = after_answer(item, True, NOW)
        if item is not None:
            assert item.box == previous.box + 1
            waits.append(item.due - NOW)
    assert waits == list(INTERVALS[1:])
    assert waits == sorted(waits)
    assert previous.box == len(INTERVALS)


def test_a_wrong_answer_goes_back_to_box_one():
    item = ReviewItem("l", "exercise", "e", 3, NOW)
    again = after_answer(item, False, NOW + 5)
    assert again.box == 1 and again.due == NOW + 5 + DAY


def test_due_items_oldest_first():
    a = ReviewItem("l", "quiz", "a", 1, NOW - 10)
    b = ReviewItem("l", "quiz", "b", 1, NOW - 100)
    later = ReviewItem("l", "quiz", "c", 1, NOW + 10)
    assert due_items([a, later, b], NOW) == [b, a]


@pytest.mark.parametrize("wait, text", [(-5, "now"), (0, "now"), (30, "in 1 minute"), (600, "in 10 minutes"),
                                        (7200, "in 2 hours"), (3 * DAY, "in 3 days"), (DAY, "in 1 day"), (DAY - 60, "in 1 day")])
def test_when(wait, text):
    assert when(ReviewItem("l", "quiz", "q", 1, NOW + wait), NOW) == text
