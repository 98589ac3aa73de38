"""Lesson prose as Markdown: headings, lists, tables, inline code, links."""

from __future__ import annotations

from textual.widgets import Markdown


class Prose(Markdown):
    DEFAULT_CSS = """
    Prose {
        margin: 0;
        padding: 0 1;
        background: transparent;
    }
    Prose MarkdownTable { width: auto; }
    """

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        # Over SSH there is no browser to open: show the address instead.
        event.stop()
        self.app.notify(event.href, title="Link", timeout=8)
