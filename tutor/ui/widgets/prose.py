"""Lesson prose as Markdown: headings, lists, tables, inline code, links.

One widget per prose block, rendered by Rich's Markdown: Textual's Markdown widget
builds a widget for every paragraph and list item, which made a long lesson (some
6,000 widgets) take seconds to open. Links show their address after the text, since
a terminal over SSH has no browser to open them in; Ctrl+L lists a step's links to open
or copy (``tutor.ui.screens.links``).
"""

from __future__ import annotations

from rich.markdown import Markdown
from textual.widgets import Static


class Prose(Static):
    DEFAULT_CSS = """
    Prose {
        height: auto;
        margin: 0 0 1 0;
        padding: 0 1;
        background: transparent;
    }
    """

    def __init__(self, text: str, **kwargs):
        super().__init__(Markdown(text, code_theme="ansi_dark", inline_code_lexer="python",
                                  hyperlinks=False), **kwargs)
        self.markdown = text
