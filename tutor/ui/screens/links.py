"""The links of the step being read, reachable from the keyboard (Ctrl+L).

Prose shows each link's address after its text, but a keyboard cannot follow it.
This box lists them: Enter opens the chosen one in a browser when this machine can
show one, and otherwise copies its address to the clipboard (OSC 52, which reaches
the learner's own clipboard over SSH in most terminals); ``c`` always copies. Each
address is also drawn as a terminal hyperlink (OSC 8): a click opens it where the
terminal supports that.

Textual 8.2.8's ``App.open_url`` calls :func:`webbrowser.open` on the machine the app
runs on: over SSH that is the remote one, and with no graphical display Python falls
back to text browsers (lynx, w3m) that would take over this very terminal. So the
browser is used only when it would open on the learner's own screen.
"""

from __future__ import annotations

import os
import sys
import webbrowser

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tutor.lessons.links import Link

TEXT_BROWSERS = {"www-browser", "links", "links2", "elinks", "lynx", "w3m"}


def browser_here(environ=os.environ, platform: str = sys.platform) -> bool:
    """Whether a browser opened from here would show on the learner's own screen."""
    if any(name in environ for name in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")):
        return False
    if platform not in ("darwin", "win32") and not (environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    return getattr(browser, "name", "") not in TEXT_BROWSERS


class LinksScreen(ModalScreen[None]):
    """A numbered list of links; choosing one opens or copies it."""

    DEFAULT_CSS = """
    LinksScreen { align: center middle; }
    LinksScreen > Vertical {
        width: 90;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    LinksScreen OptionList, LinksScreen OptionList:focus { height: auto; max-height: 20; border: none; padding: 0; }
    LinksScreen .links-help { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("c", "copy", "Copy address"),
        *(Binding(str(n), f"choose({n - 1})", show=False) for n in range(1, 10)),
    ]

    def __init__(self, title: str, links: list[Link]) -> None:
        """Whether a browser would show here is asked once, for the help line and Enter."""
        super().__init__()
        self.title_text = title
        self.links = links
        self.opens_browser = browser_here()

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Text(f"Links · {self.title_text}")  # a str would be read as markup
            yield OptionList(*(self._option(number, link) for number, link in enumerate(self.links, 1)))
            yield Static("Enter (or the link's number) opens it in your browser · c copies its address · Esc closes"
                         if self.opens_browser else
                         "Enter (or the link's number) copies its address: paste it into your browser · Esc closes",
                         classes="links-help")

    @staticmethod
    def _option(number: int, link: Link) -> Option:
        """``1. text`` over its dimmed address, or the address alone when it is the text."""
        address = Style(underline=True, link=link.url)  # a terminal hyperlink (OSC 8)
        if link.text == link.url:
            return Option(Text.assemble(f"{number}. ", (link.url, address)))
        return Option(Text.assemble(f"{number}. {link.text}\n   ", (link.url, address + Style(dim=True))))

    def _chosen(self) -> Link | None:
        """The highlighted link, if any."""
        index = self.query_one(OptionList).highlighted
        return self.links[index] if index is not None and index < len(self.links) else None

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.follow(self.links[event.option_index])

    def action_choose(self, index: int) -> None:
        """A number key: highlight the ``index``-th link and follow it."""
        if index < len(self.links):
            self.query_one(OptionList).highlighted = index
            self.follow(self.links[index])

    def follow(self, link: Link) -> None:
        """Open ``link`` in a browser if one would show here, else copy its address."""
        if self.opens_browser:
            self.app.open_url(link.url)
            self.app.notify(f"Opened in your browser: {link.url}", timeout=4, markup=False)
        else:
            self._copy(link)

    def action_copy(self) -> None:
        """``c``: copy the highlighted link's address, even where a browser would open."""
        link = self._chosen()
        if link is not None:
            self._copy(link)

    def _copy(self, link: Link) -> None:
        """Copy the address to the clipboard (OSC 52) and say so."""
        self.app.copy_to_clipboard(link.url)
        self.app.notify(f"Copied {link.url} — paste it into your browser.", timeout=6, markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
