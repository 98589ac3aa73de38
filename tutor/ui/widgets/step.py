"""One step (a ``##`` section) of a lesson page: its title, then its blocks.

A step starts as a placeholder: its title, and empty rows as many as its blocks are
estimated to take (from their text, at the page's width), so that the page has about
its real length and scrollbar without building a widget for every block. The page
fills a step (mounts its blocks) when it comes near the view, or when something needs
its widgets (a jump, a run of one of its cells). A lesson of 70 cells then opens as
fast as one of 5.
"""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import AwaitMount
from textual.widgets import Static

from tutor.lessons.model import CodeCell, Exercise, Prose, Quiz, Step


class StepView(Vertical):
    DEFAULT_CSS = """
    StepView { height: auto; padding: 0 1 1 1; }
    StepView > .step-title {
        text-style: bold;
        color: $accent;
        border-bottom: solid $primary 50%;
        margin-bottom: 1;
    }
    """

    def __init__(self, step: Step, number: int, make_blocks, *, filled: bool = False):
        """``make_blocks`` builds the widgets of the step's blocks, when it is filled (at
        once if ``filled``)."""
        super().__init__(id=f"step-{step.id}")
        self.step = step
        self.number = number
        self._make_blocks = make_blocks  # () -> the widgets of the step's blocks
        self.filled = filled
        self._mounting: AwaitMount | None = None

    def compose(self) -> ComposeResult:
        """The title, and the blocks only if the step is filled."""
        yield Static(f"{self.number}. {self.step.title}", classes="step-title", markup=False)
        if self.filled:
            yield from self._make_blocks()

    async def fill(self) -> None:
        """Mount the step's blocks; returns once they are mounted (at once if they are)."""
        if not self.filled:
            self.filled = True
            self._mounting = self.mount_all(self._make_blocks())
            self.refresh(layout=True)  # from the estimate to the real height
        if self._mounting is not None:
            await self._mounting

    def get_content_height(self, container, viewport, width: int) -> int:
        """A placeholder is as tall as its blocks are estimated to be."""
        if self.filled:
            return super().get_content_height(container, viewport, width)
        return estimated_rows(self.step, width)


# The rows each part of a block takes, as the widgets' styles draw them.
TITLE_ROWS = 3  # the title, its underline, the margin below it
BLOCK_MARGIN = 1  # between blocks (margins of neighbours overlap)
CELL_INSET = 2  # a cell's left border and padding
GUTTER = 5  # the editor's line numbers
EXERCISE_EXTRA = 4  # the buttons and the feedback, each with a margin above
QUIZ_EXTRA = 2  # the quiz's title and its keys
INPUT_ROWS = 3  # a free-answer box


def text_rows(text: str, width: int) -> int:
    """Rows ``text`` takes wrapped at ``width`` (an estimate: words are not split)."""
    width = max(1, width)
    return sum(max(1, math.ceil(len(line) / width)) for line in text.rstrip("\n").split("\n"))


def estimated_rows(step: Step, width: int) -> int:
    """About how many rows the step's content takes at ``width`` once filled: what a
    placeholder reserves, so the page keeps about its length (a filled step above the
    view does not move what the learner reads: see ``AnchoredScroll``)."""
    rows = TITLE_ROWS
    for block in step.blocks:
        rows += BLOCK_MARGIN
        if isinstance(block, Prose):
            rows += text_rows(block.text, width - 2)
        elif isinstance(block, Exercise):
            rows += 1 + text_rows(block.starter, width - CELL_INSET - GUTTER) + EXERCISE_EXTRA
        elif isinstance(block, CodeCell):
            rows += 1 + text_rows(block.code, width - CELL_INSET - GUTTER)
        elif isinstance(block, Quiz):
            rows += QUIZ_EXTRA + text_rows(block.question, width - 2)
            rows += len(block.choices) if block.choices is not None else INPUT_ROWS
    return rows
