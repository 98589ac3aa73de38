"""The home screen's lesson cards: the progress line reads as a progress bar (the done
part green, what is left dim, the counts in the text's own colour) at 0%, partway and
100%."""

from __future__ import annotations

import pytest
from rich.console import Console

from tutor.progress.records import Score
from tutor.ui.screens.home import lesson_card


class _Progress:
    def __init__(self, score: Score) -> None:
        self._score = score

    def score(self, lesson) -> Score:
        return self._score


def _progress_line(catalog, done: int, steps: int = 4) -> list[tuple[str, object]]:
    """The card's last row, drawn: (character, style) for each character of the text column."""
    lesson = catalog.lessons[0]
    card = lesson_card(lesson, _Progress(Score(steps, steps, 0, 0, 0, 0, steps_done=done)), 60)
    console = Console(width=60, color_system="truecolor", force_terminal=True)
    lines = console.render_lines(card, console.options, pad=False)
    drawn = [(ch, segment.style) for segment in lines[-1] for ch in segment.text]
    return drawn[4:]  # past the number column and its gap


def _green(style) -> bool:
    return style is not None and style.color is not None and style.color.name == "green"


@pytest.mark.parametrize("done", [0, 1, 2, 4])
def test_the_bar_is_green_for_what_is_done_and_dim_for_what_is_left(catalog, done):
    line = _progress_line(catalog, done)
    full = [style for ch, style in line if ch == "█"]
    left = [style for ch, style in line if ch == "░"]
    assert len(full) == 16 * done // 4 and len(full) + len(left) == 16
    assert all(_green(style) for style in full)
    assert all(not _green(style) and style.dim for style in left)
    counts = "".join(ch for ch, _ in line).split("steps")[0]
    assert f" {done}/4 " in counts
    assert not any(_green(style) for ch, style in line if ch.isdigit())  # the counts are text, not the bar


def test_a_finished_lesson_says_so_in_green(catalog):
    line = _progress_line(catalog, 4)
    text = "".join(ch for ch, _ in line)
    assert "done ✓" in text
    start = text.index("done ✓")
    assert all(_green(style) and style.bold for _, style in line[start:start + 6])
