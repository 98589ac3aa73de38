"""One step (a ``##`` section) of a lesson page: its title, then its blocks, mounted
when the lesson screen asks (steps are filled one per frame, so a lesson opens fast)."""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from tutor.lessons.model import Step


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
        super().__init__(id=f"step-{step.id}")
        self.step = step
        self.number = number
        self._make_blocks = make_blocks  # () -> the widgets of the step's blocks
        self.filled = filled

    def compose(self) -> ComposeResult:
        yield Static(f"{self.number}. {self.step.title}", classes="step-title")
        if self.filled:
            yield from self._make_blocks()

    def fill(self):
        """Mount the step's blocks (awaitable); a no-op when they are there."""
        if self.filled:
            return asyncio.sleep(0)
        self.filled = True
        return self.mount_all(self._make_blocks())
