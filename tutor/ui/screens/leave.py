"""The question when the app closes while cells run: keep them running in the
background (their sessions outlive the app), or stop them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

KEEP, STOP, STAY = "keep", "stop", "stay"


class LeaveScreen(ModalScreen[str]):
    """Dismissed with KEEP, STOP or STAY (escape: do not quit)."""

    DEFAULT_CSS = """
    LeaveScreen { align: center middle; }
    LeaveScreen > Vertical {
        width: 70;
        max-width: 100%;
        height: auto;
        border: thick $warning;
        background: $surface;
        padding: 1 2;
    }
    LeaveScreen .leave-question { margin-bottom: 1; }
    LeaveScreen Horizontal { height: auto; align-horizontal: right; }
    LeaveScreen Button { margin-left: 2; min-width: 12; }
    """
    BINDINGS = [
        Binding("k", "answer('keep')", "Keep running"),
        Binding("s", "answer('stop')", "Stop it"),
        Binding("escape", "answer('stay')", "Cancel"),
    ]

    def __init__(self, running: list[str]):
        super().__init__()
        self.running = running

    def compose(self) -> ComposeResult:
        what = ", ".join(self.running)
        with Vertical():
            yield Static(f"Still running: {what}.\n\nKeep it running in the background? Start tutor again "
                         "to come back to it (its output is kept). Or stop it now (its variables are lost).",
                         classes="leave-question")
            with Horizontal():
                yield Button("Cancel (esc)", id=STAY)
                yield Button("Stop it (s)", id=STOP, variant="error")
                yield Button("Keep running (k)", id=KEEP, variant="primary")

    def on_mount(self) -> None:
        self.query_one(f"#{KEEP}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id)

    def action_answer(self, answer: str) -> None:
        self.dismiss(answer)
