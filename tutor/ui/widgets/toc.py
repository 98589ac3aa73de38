"""The table of contents of a lesson: its steps, with a mark for those done.

It stays beside the page on a wide screen and opens over it on a narrow one (F2 opens
and closes it; on a narrow screen it closes once a step is chosen). Closing it by hand
on a narrow screen keeps it closed as the terminal is resized.
"""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tutor.lessons.model import Step

TITLE_WIDTH = 28  # the list is 30 wide: long titles end in "…" rather than wrap
WIDE = 100  # from this screen width up, the contents stay beside the page


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
        """The learner chose the step ``step_id`` in the contents."""

        def __init__(self, step_id: str) -> None:
            super().__init__()
            self.step_id = step_id

    def __init__(self, steps: tuple[Step, ...], done: set[str], **kwargs):
        """``done`` are the ids of the steps done; the first step is current until told
        otherwise."""
        super().__init__(**kwargs)
        self.steps = steps
        self.done = set(done)
        self.current: str | None = steps[0].id if steps else None
        self._pinned: bool | None = None  # shown or hidden by the learner; None: by width
        self._fill()

    def _fill(self) -> None:
        """(Re)build the options: ✓ for a step done, ▸ and bold for the current one; the
        highlight kept."""
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
        """Set the steps done and the current step; the list is rebuilt only if either changed."""
        changed = False
        if done is not None and done != self.done:
            self.done, changed = set(done), True
        if current is not None and current != self.current:
            self.current, changed = current, True
        if changed:
            self._fill()

    # -- beside the page, or over it --------------------------------------------------------

    @property
    def shown(self) -> bool:
        """Whether the contents are displayed."""
        return self.display

    def show(self, show: bool) -> None:
        """Display or hide the contents."""
        # display on the one widget: a class on the screen would restyle every widget
        if self.display != show:
            self.display = show

    def fit(self, screen_width: int) -> None:
        """Beside the page when the screen is wide enough, unless the learner said otherwise."""
        self.show(self._pinned if self._pinned is not None else screen_width >= WIDE)

    def toggle(self, screen_width: int) -> bool:
        """F2: open (and focus) the contents at the learner's step, or close them when they
        have the focus. True when they closed (the learner goes back to the page)."""
        if self.shown and self.has_focus:
            if screen_width < WIDE:
                self._pinned = False
            self.show(False)
            return True
        self.show(True)
        ids = [step.id for step in self.steps]
        if self.current in ids:
            self.highlighted = ids.index(self.current)
        self.focus()
        return False

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Post ``StepChosen``; over a narrow page the contents close, unless the learner
        pinned them."""
        event.stop()
        if event.option.id:
            self.post_message(self.StepChosen(event.option.id))
            if self._pinned is None and self.screen.size.width < WIDE:
                self.show(False)  # over the page: out of the way once a step is chosen
