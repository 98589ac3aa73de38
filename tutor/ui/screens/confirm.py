"""A question in a small modal box, answered by a button or its key.

``ChoiceScreen`` is the box; ``ConfirmScreen`` asks yes or no (``y``/``n``, escape
says no); ``tutor/ui/screens/leave.py`` asks keep, stop or stay when the app closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


@dataclass(frozen=True)
class Choice:
    """One answer: its button's words, the key that picks it, what the screen returns."""

    label: str
    key: str
    value: object
    variant: str = "default"


class ChoiceScreen(ModalScreen):
    """Dismissed with the value of the choice picked (a button, its key, or Enter on the
    focused button), or with ``cancel`` on escape."""

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical {
        width: 66;
        max-width: 100%;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    ChoiceScreen .choice-question { margin-bottom: 1; }
    ChoiceScreen Horizontal { height: auto; align-horizontal: right; }
    ChoiceScreen Button { margin-left: 2; min-width: 10; }
    """

    def __init__(self, question: str, choices: list[Choice], *, cancel: object, focus: object):
        """``cancel`` is returned on escape; the button whose value is ``focus`` has the focus."""
        super().__init__()
        self.question = question
        self.choices = choices
        self.cancel = cancel
        self.focused_value = focus

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, classes="choice-question", markup=False)  # it may name a lesson or a cell
            with Horizontal():
                for index, choice in enumerate(self.choices):
                    yield Button(f"{choice.label} ({choice.key})", id=f"choice-{index}", variant=choice.variant)

    def on_mount(self) -> None:
        for index, choice in enumerate(self.choices):
            if choice.value == self.focused_value:
                self.query_one(f"#choice-{index}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(self.choices[int(event.button.id.removeprefix("choice-"))].value)

    def on_key(self, event) -> None:
        """Escape dismisses with ``cancel``; a choice's key dismisses with its value."""
        if event.key == "escape":
            event.stop()
            self.dismiss(self.cancel)
            return
        for choice in self.choices:
            if event.key == choice.key:
                event.stop()
                self.dismiss(choice.value)
                return


class ConfirmScreen(ChoiceScreen):
    """Yes (``y``, focused) or no (``n``, escape): dismissed with True or False."""

    def __init__(self, question: str, yes: str = "Yes", no: str = "No"):
        """``yes`` and ``no`` are the buttons' words."""
        super().__init__(question, [Choice(no, "n", False), Choice(yes, "y", True, "warning")],
                         cancel=False, focus=True)
