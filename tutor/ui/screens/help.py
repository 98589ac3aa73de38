"""The help screen: every key, grouped by what it acts on."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor.ui.keys import HELP_SECTIONS


def help_table() -> Table:
    """Every key of ``HELP_SECTIONS``, a bold title over each section's rows."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for title, rows in HELP_SECTIONS:
        table.add_row(Text(title, style="bold underline"), "")
        for keys, what in rows:
            table.add_row(keys, what)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen .help-footer { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys"
            yield Static(help_table())
            yield Static("Esc closes this help. Every key works over SSH and in tmux.", classes="help-footer")

    def action_close(self) -> None:
        self.dismiss(None)
