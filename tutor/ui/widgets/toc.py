"""The table of contents of a lesson: its steps, with a mark for those done."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tutor.lessons.model import Step

TITLE_WIDTH = 28  # the list is 30 wide: long titles end in "…" rather than wrap


class StepList(OptionList):
    DEFAULT_CSS = """
    StepList {
        width: 30;
        height: 1fr;
        border: none;
        border-right: vkey $panel;
        padding: 0;
        background: $surface;
    }
    StepList:focus { background: $boost; }
    """

    class StepChosen(Message):
        def __init__(self, step_id: str) -> None:
            super().__init__()
            self.step_id = step_id

    def __init__(self, steps: tuple[Step, ...], done: set[str], **kwargs):
        super().__init__(**kwargs)
        self.steps = steps
        self.done = set(done)
        self.current: str | None = steps[0].id if steps else None
        self._fill()

    def _fill(self) -> None:
        highlighted = self.highlighted
        self.clear_options()
        for number, step in enumerate(self.steps, 1):
            mark = "✓" if step.id in self.done else ("▸" if step.id == self.current else " ")
            words = f"{mark} {number}. {step.title}"
            if len(words) > TITLE_WIDTH:
                words = words[:TITLE_WIDTH - 1] + "…"
            label = Text(words, no_wrap=True)
            if step.id in self.done:
                label.stylize("dim", 0, 1)
            if step.id == self.current:
                label.stylize("bold")
            self.add_option(Option(label, id=step.id))
        if highlighted is not None:
            self.highlighted = highlighted

    def mark(self, *, done: set[str] | None = None, current: str | None = None) -> None:
        changed = False
        if done is not None and done != self.done:
            self.done, changed = set(done), True
        if current is not None and current != self.current:
            self.current, changed = current, True
        if changed:
            self._fill()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.StepChosen(event.option.id))
