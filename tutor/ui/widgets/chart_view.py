"""A live chart under a cell (``tutor.live``), drawn by plotext in a thread.

New points only mark the chart stale; it is redrawn at most every ``INTERVAL``
seconds while points stream in, and once more, at once, when the cell ends.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static

from tutor.ui.charts import ChartData, draw_chart


class ChartView(Static):
    DEFAULT_CSS = """
    ChartView {
        height: 16;
        padding: 0 1;
        margin-top: 1;
    }
    ChartView.-narrow { height: 2; }
    """
    INTERVAL = 0.25
    NARROW = 40  # below this width, a one-line summary instead of a plot

    class Drawn(Message):
        """A drawing finished in the background."""

        def __init__(self, text: str, version: int, width: int) -> None:
            super().__init__()
            self.text = text
            self.version = version
            self.width = width

    def __init__(self, data: ChartData, **kwargs):
        super().__init__("", **kwargs)
        self.data = data
        self._drawn_version = -1
        self._drawn_width = -1
        self._drawing = False
        self._last_draw = 0.0
        self._timer = None
        self.drawn_text = ""  # the last drawing as plain text (tests, captures)

    def on_mount(self) -> None:
        self.data_changed(now=True)

    def on_resize(self) -> None:
        self.data_changed(now=True)

    def data_changed(self, now: bool = False) -> None:
        """Points arrived: redraw soon (``now``: without waiting for the interval)."""
        if self._drawing or not self.is_mounted:
            return  # the Drawn handler checks the version again
        width = self.content_size.width
        if width <= 0 or (self.data.version == self._drawn_version and width == self._drawn_width):
            return
        wait = self.INTERVAL - (time.monotonic() - self._last_draw)
        if now or wait <= 0:
            self._start_drawing(width)
        elif self._timer is None:
            self._timer = self.set_timer(wait, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.data_changed(now=True)

    def _start_drawing(self, width: int) -> None:
        if width < self.NARROW:
            self.add_class("-narrow")
            self._show(f"{self.data.title or 'chart'}: {self.data.summary()}", self.data.version, width)
            return
        self.remove_class("-narrow")
        self._drawing = True
        self._last_draw = time.monotonic()
        self._draw(self.data.snapshot(), width, max(6, self.content_size.height))

    @work(thread=True, group="chart-draw")
    def _draw(self, snapshot: ChartData, width: int, height: int) -> None:
        self.post_message(self.Drawn(draw_chart(snapshot, width, height), snapshot.version, width))

    def on_chart_view_drawn(self, message: Drawn) -> None:
        message.stop()
        self._drawing = False
        self._show(message.text, message.version, message.width)
        self.data_changed()

    def _show(self, text: str, version: int, width: int) -> None:
        rendered = Text.from_ansi(text, no_wrap=True, end="")
        self.drawn_text = rendered.plain
        self._drawn_version, self._drawn_width = version, width
        self.update(rendered)
        # Seen twice in tmux (not reproduced since): a chart drawn while its cell was
        # being scrolled into view stayed blank until the next drawing. A repaint after
        # the next frame costs nothing and covers it.
        self.call_after_refresh(self.refresh)
