"""A live chart under a cell (``tutor.live``), drawn by plotext in a thread.

New points only mark the chart stale; it is redrawn at most every ``INTERVAL``
seconds while points stream in, and once more, at once, when the cell ends. The
thread also turns plotext's ANSI text into the rows to paint, so that the event loop
only swaps them in and repaints: the chart's height is fixed, and a new drawing
never lays the page out again (a Static's ``update`` did, four times a second).
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.text import Text
from textual import work
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from tutor.charts import ChartData, draw_chart
from tutor.ui.worker_failures import ShowsWorkerFailures, failure_text

_CONSOLE = Console(legacy_windows=False, force_terminal=True, color_system="truecolor")


def ansi_rows(text: str) -> tuple[list[Strip], str]:
    """ANSI text as one strip per row, and as plain text (tests and captures read it)."""
    rendered = Text.from_ansi(text, no_wrap=True, end="")
    rows = rendered.split("\n", allow_blank=True)
    return [Strip(row.render(_CONSOLE, end=""), row.cell_len) for row in rows], rendered.plain


class ChartView(ShowsWorkerFailures, Widget):
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
        """A drawing finished in the background: its rows, ready to paint."""

        def __init__(self, rows: list[Strip], plain: str, version: int, width: int) -> None:
            super().__init__()
            self.rows = rows
            self.plain = plain
            self.version = version
            self.width = width

    def __init__(self, data: ChartData, **kwargs):
        """``data`` is the cell's chart; it grows as points stream in and ``data_changed``
        is called."""
        super().__init__(**kwargs)
        self.data = data
        self._drawn_version = -1
        self._drawn_width = -1
        self._drawing = False
        self._last_draw = 0.0
        self._timer = None
        self._rows: list[Strip] = []
        self._base_style = None  # rich_style walks every ancestor: once per style change
        self.drawn_text = ""  # the last drawing as plain text (tests, captures)

    def on_mount(self) -> None:
        self.data_changed(now=True)

    def on_resize(self) -> None:
        """A new width needs a new drawing, at once."""
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
        """The interval since the last drawing is over: draw the points that came meanwhile."""
        self._timer = None
        self.data_changed(now=True)

    def _start_drawing(self, width: int) -> None:
        """Draw a snapshot of the data in the background; a narrow view gets a one-line
        summary instead."""
        if width < self.NARROW:
            self.add_class("-narrow")
            self._show(f"{self.data.title or 'chart'}: {self.data.summary()}", self.data.version, width)
            return
        self.remove_class("-narrow")
        self._drawing = True
        self._last_draw = time.monotonic()
        self._draw(self.data.snapshot(), width, max(6, self.content_size.height))

    @work(thread=True, group="chart-draw", name="drawing a chart", exit_on_error=False)
    def _draw(self, snapshot: ChartData, width: int, height: int) -> None:
        """In a thread: plotext's drawing, turned into rows, posted as ``Drawn``."""
        rows, plain = ansi_rows(draw_chart(snapshot, width, height))
        self.post_message(self.Drawn(rows, plain, snapshot.version, width))

    def worker_failed(self, worker) -> None:
        """A drawing that failed says so in place of the chart; the next points try again."""
        self.log.error(failure_text(worker), worker.error)
        self._drawing = False
        self._show(failure_text(worker), self.data.version, self._drawn_width)

    def on_chart_view_drawn(self, message: Drawn) -> None:
        """Paint the finished drawing, then draw again if points came while it was drawn."""
        message.stop()
        self._drawing = False
        self._paint(message.rows, message.plain, message.version, message.width)
        self.data_changed()

    def _show(self, text: str, version: int, width: int) -> None:
        """Show ``text`` (ANSI allowed) in place of a drawing."""
        self._paint(*ansi_rows(text), version, width)

    def _paint(self, rows: list[Strip], plain: str, version: int, width: int) -> None:
        """Swap in new rows and repaint (the height is fixed: no layout)."""
        self._rows, self.drawn_text = rows, plain
        self._drawn_version, self._drawn_width = version, width
        self.refresh()
        # Seen twice in tmux (not reproduced since): a chart drawn while its cell was
        # being scrolled into view stayed blank until the next drawing. A repaint after
        # the next frame costs nothing and covers it.
        self.call_after_refresh(self.refresh)

    def notify_style_update(self) -> None:
        """The widget's style changed (a theme): look its base style up again."""
        self._base_style = None
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the drawing in the widget's style, cropped or padded to the width."""
        width = self.content_size.width
        style = self._base_style
        if style is None:
            style = self._base_style = self.rich_style
        if y >= len(self._rows):
            return Strip.blank(width, style)
        return self._rows[y].apply_style(style).crop_extend(0, width, style)
