"""A cell's printed output, virtualised: only the rows on screen are rendered.

Reads an :class:`~tutor.ui.output_buffer.OutputBuffer`. Lines wider than the view
wrap onto the rows below (a faint ``↪`` starts each continuation row) and wrap again
when the view is resized. ``w`` switches printed lines to panning instead, for wide
tables (``left``/``right`` pan); errors, stderr and our notes wrap whatever the mode,
since they are what a learner must read in full.

Folded (the default), long output shows its last lines, whole, under a row that
counts what is hidden (``FOLD_ROWS`` rows in all); the window follows new output
unless the learner scrolled it.
``o`` unfolds everything that was kept.
"""

from __future__ import annotations

from functools import lru_cache

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from tutor.ui import keys
from tutor.ui.output_buffer import OutputBuffer, StyledLine, plain
from tutor.ui.widgets.output_rows import RowIndex, continuation_prefix, row_starts

WRAP_ALWAYS = frozenset({"stderr", "error", "advice", "note"})  # kinds that never pan

Position = tuple[int, int]  # (shown line, row within that line)


@lru_cache(maxsize=256)
def sgr_style(sgr: str) -> Style:
    """The Rich style of SGR parameters such as ``"1;31"`` (parsed once, cached)."""
    text = Text.from_ansi(f"\x1b[{sgr}mx")
    return text.spans[0].style if text.spans else Style()  # type: ignore[return-value]


class OutputView(Widget, can_focus=False):
    """The output under a code cell."""

    DEFAULT_CSS = """
    OutputView {
        height: auto;
        padding: 0 1;
        background: $surface;
        color: $foreground;
    }
    OutputView:focus {
        background: $boost;
    }
    OutputView > .output-view--stderr { color: $warning; }
    OutputView > .output-view--error { color: $error; text-style: bold; }
    OutputView > .output-view--advice { color: $accent; }
    OutputView > .output-view--note { color: $text-muted; text-style: italic; }
    OutputView > .output-view--fold { color: $text-muted; background: $panel; }
    OutputView > .output-view--mark { color: $text-muted; text-style: not bold; }
    """

    COMPONENT_CLASSES = {
        "output-view--stderr", "output-view--error", "output-view--advice",
        "output-view--note", "output-view--fold", "output-view--mark",
    }

    # Two bindings per key: the footer names what the key does now.
    BINDINGS = [
        Binding(keys.FOLD, "unfold", "Unfold"),
        Binding(keys.FOLD, "fold", "Fold"),
        Binding(keys.WRAP, "pan", "Pan"),
        Binding(keys.WRAP, "wrap", "Wrap"),
        Binding("up", "scroll_rows(-1)", "Up", show=False),
        Binding("down", "scroll_rows(1)", "Down", show=False),
        Binding("pageup", "scroll_rows(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_rows(10)", "Page down", show=False),
        Binding("home", "scroll_home_of_output", "Top", show=False),
        Binding("end", "follow", "Follow", show=False),
        Binding("left", "pan_by(-8)", "Left", show=False),
        Binding("right", "pan_by(8)", "Right", show=False),
    ]

    FOLD_ROWS = 12
    folded: reactive[bool] = reactive(True, layout=True)
    wrap: reactive[bool] = reactive(True, layout=True)

    def __init__(self, buffer: OutputBuffer | None = None, *, id: str | None = None, classes: str | None = None):
        """A buffer of its own unless one is given."""
        super().__init__(id=id, classes=classes)
        self.buffer = buffer if buffer is not None else OutputBuffer()
        self._top: Position | None = None  # first row of the folded window; None: follow the end
        self._pan = 0
        self._rows = 0  # rows last laid out
        self._width = 0  # the content width last laid out (rows depend on it)
        self._kind_styles: dict[str, Style] = {}
        self._base_style: Style | None = None  # rich_style walks every ancestor: once per style change
        self._index = RowIndex(self._rows_of)
        self._index_width = 0
        self._indexed: tuple = ()  # (buffer version, width and mode) the index is at
        self._window: tuple[tuple, list[Position]] = ((), [])
        self._held = 0  # rows kept while a run streams (see ``hold_height``)

    # -- rows ------------------------------------------------------------------------

    @property
    def wrap_width(self) -> int:
        """The width the rows are wrapped to: the one the layout last asked about (the
        new width during a resize, before ``size`` has it), else the current one."""
        return self._width or self.size.width or 80

    def _wraps(self, line: str | StyledLine) -> bool:
        """Whether ``line`` wraps now: always in wrap mode, and errors and notes in pan mode too."""
        return self.wrap or (not isinstance(line, str) and line.kind in WRAP_ALWAYS)

    def _starts(self, line: str | StyledLine, width: int) -> tuple[int, ...]:
        """Where each row of ``line`` starts (one row when it fits or pans)."""
        if isinstance(line, str):
            if not self.wrap or (len(line) <= width and line.isascii()):
                return (0,)
            return row_starts(line, width)
        if not self._wraps(line):
            return (0,)
        return row_starts(line.text, width)

    def _rows_of(self, line: str | StyledLine) -> int:
        """Rows of one line at the index's width (``RowIndex`` counts with it)."""
        width = self._index_width
        if isinstance(line, str) and len(line) <= width and line.isascii():
            return 1
        return len(self._starts(line, width))

    def _line_index(self) -> RowIndex | None:
        """The rows of every kept line; None while no line is wider than the view (then
        each line is one row)."""
        width = self.wrap_width
        if self.buffer.widest <= width:
            return None
        key = (width, self.wrap)
        if self._indexed != (self.buffer.version, key):
            self._index_width = width
            self._index.update(self.buffer, key)
            self._indexed = (self.buffer.version, key)
        return self._index

    def _row_total(self) -> int:
        """Rows of all the kept lines, unfolded."""
        index = self._line_index()
        return len(self.buffer) if index is None else index.total

    def _locate(self, row: int) -> Position:
        """(line, row within it) of unfolded row ``row``."""
        index = self._line_index()
        return (row, 0) if index is None else index.locate(row)

    @property
    def is_foldable(self) -> bool:
        """Whether the output is taller than the folded window (``FOLD_ROWS``)."""
        count = len(self.buffer)
        if count > self.FOLD_ROWS:
            return True
        return count > 0 and self._row_total() > self.FOLD_ROWS

    @property
    def has_wide_lines(self) -> bool:
        """Some printed (stdout) line is wider than the view: it may wrap or pan."""
        return self.buffer.widest_stdout > self.wrap_width

    # -- the folded window -------------------------------------------------------------

    def _rows_in(self, index: int) -> int:
        """Rows of the kept line ``index`` at the wrap width."""
        return len(self._starts(self.buffer.line(index), self.wrap_width))

    def _end_position(self, rows: int) -> Position:
        """Where a window of ``rows`` rows that shows the last row starts."""
        index = len(self.buffer) - 1
        while index >= 0:
            count = self._rows_in(index)
            if count >= rows:
                return index, count - rows
            rows -= count
            index -= 1
        return 0, 0

    def _step(self, position: Position, delta: int) -> Position:
        """``delta`` rows down (up when negative) from ``position``, stopping at the ends."""
        line, part = position
        while delta > 0 and line < len(self.buffer):
            if part + 1 < self._rows_in(line):
                part += 1
            elif line + 1 < len(self.buffer):
                line, part = line + 1, 0
            else:
                break
            delta -= 1
        while delta < 0 and (line, part) > (0, 0):
            if part:
                part -= 1
            else:
                line -= 1
                part = self._rows_in(line) - 1
            delta += 1
        return line, part

    def _end_top(self) -> Position:
        """Where the window that shows the last row starts: at the start of a line, so
        that its first row is never a bare continuation (``↪ …``). A line that does not
        fit whole is left out, its rows blank; only a last line taller than the window
        on its own is shown in part: its last rows."""
        line, part = self._end_position(self.FOLD_ROWS - 1)
        if part and line + 1 < len(self.buffer):
            return line + 1, 0
        return line, part

    def _rows_from(self, position: Position, limit: int) -> list[Position]:
        """Up to ``limit`` rows from ``position`` down."""
        line, part = position
        rows: list[Position] = []
        while len(rows) < limit and line < len(self.buffer):
            count = self._rows_in(line)
            rows.extend((line, p) for p in range(part, min(count, part + limit - len(rows))))
            line, part = line + 1, 0
        return rows

    def _window_rows(self) -> list[Position]:
        """The rows the folded window shows, top to bottom: as many as the window that
        follows the end shows (scrolled up, it shows as many from where the learner is)."""
        key = (self.buffer.version, self.wrap_width, self.wrap, self._top)
        if self._window[0] == key:
            return self._window[1]
        rows = self._rows_from(self._end_top(), self.FOLD_ROWS - 1)
        if rows and self._top is not None and self._top < rows[0]:
            rows = self._rows_from(self._top, len(rows))
        self._window = (key, rows)
        return rows

    @property
    def _showing_window(self) -> bool:
        """Whether the folded window (and its fold row) is shown."""
        return self.folded and self.is_foldable

    def row_count(self) -> int:
        """The view's height in rows: the folded window or every row, at least what
        ``hold_height`` keeps."""
        rows = self.FOLD_ROWS if self._showing_window else self._row_total()
        return max(rows, self._held)

    def hold_height(self) -> None:
        """A new run starts: until ``release_height``, the view keeps the height it has
        (up to the folded window's), blank below what the new run printed. So the page
        is not laid out again as the last run's output goes and the new one grows (a
        layout of the whole screen per frame, the event loop's longest stalls while a
        cell streamed), and what is below does not jump up and down."""
        self._held = min(self._rows, self.FOLD_ROWS)

    def release_height(self) -> None:
        """The run ended: the view takes the height of what it shows."""
        if self._held:
            self._held = 0
            self.buffer_changed()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The height; the width asked about is noted, since rows depend on it."""
        self._width = width
        return self.row_count()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        """All the width there is."""
        return container.width

    def hidden_summary(self) -> str:
        """The fold row's text, e.g. ``⋯ 99,989 lines above · o unfolds``."""
        rows = self._window_rows()
        if not rows:
            return ""
        first, last = rows[0][0], rows[-1][0]
        above = self.buffer.lines_before(first)
        below = self.buffer.total_lines - self.buffer.lines_before(last + 1)
        parts = []
        if above:
            parts.append(f"{above:,} line{'s' * (above != 1)} above")
        if below:
            parts.append(f"{below:,} below")
        if not parts:  # one long line, partly shown
            hidden = rows[0][1] + self._rows_in(last) - 1 - rows[-1][1]
            parts.append(f"{hidden:,} wrapped row{'s' * (hidden != 1)}")
        dropped = f" ({self.buffer.dropped:,} not kept)" if self.buffer.dropped else ""
        return "⋯ " + ", ".join(parts) + dropped + " · o unfolds"

    # -- updates -------------------------------------------------------------------

    def buffer_changed(self) -> None:
        """Call after writing to the buffer: redraws, and re-lays out when the height changes."""
        self._update_focusable()
        rows = self.row_count()
        if rows != self._rows:
            self._rows = rows
            self.refresh(layout=True)
        else:
            self.refresh()

    def _update_focusable(self) -> None:
        """A tab stop only where there is something to do (fold, scroll, wrap or pan)."""
        self.can_focus = self.is_foldable or not self.folded or self.has_wide_lines

    def on_resize(self) -> None:
        """A new width: more or fewer rows, and wide lines may fit now."""
        self._update_focusable()
        self._rows = self.row_count()

    def reset(self, redraw: bool = True) -> None:
        """Empty the view (``redraw=False``: the caller writes again at once)."""
        self.buffer.clear()
        self._top = None
        self._pan = 0
        if not self.folded:  # (a reactive: setting it costs even when it does not change)
            self.folded = True
        if redraw:
            self.buffer_changed()

    def notify_style_update(self) -> None:
        """The widget's style changed (a theme): look its styles up again."""
        self._kind_styles.clear()
        self._base_style = None
        super().notify_style_update()

    def watch_wrap(self) -> None:
        """Switching wrap and pan starts again at the left and follows the end; the footer's
        words change."""
        self._pan = 0
        self._top = None
        self.buffer_changed()
        self.refresh_bindings()

    def watch_folded(self) -> None:
        """The footer says Fold or Unfold."""
        self.refresh_bindings()

    # -- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the keys that do something now are live (the rest go on to the page)."""
        # Scrolling keys belong to the page unless there is a folded window to move.
        if action in ("scroll_rows", "scroll_home_of_output", "follow"):
            return self._showing_window
        if action == "unfold":
            return self._showing_window
        if action == "fold":
            return not self.folded and self.is_foldable
        if action == "pan":
            return self.wrap and self.has_wide_lines
        if action == "wrap":
            return not self.wrap
        if action == "pan_by":
            return not self.wrap
        return True

    def action_unfold(self) -> None:
        """``o``: show every kept line."""
        self.folded = False
        self._top = None
        self.buffer_changed()

    def action_fold(self) -> None:
        """``o`` again: back to the folded window, following the end."""
        self.folded = True
        self._top = None
        self.buffer_changed()

    def action_pan(self) -> None:
        """Printed lines pan (for wide tables); errors and notes still wrap."""
        self.wrap = False

    def action_wrap(self) -> None:
        """``w`` again: wrap long lines."""
        self.wrap = True

    def action_scroll_rows(self, delta: int) -> None:
        """Move the folded window ``delta`` rows; at the end it follows new output again."""
        rows = self._window_rows()
        if not rows:
            return
        last_top = self._end_top()
        top = self._step(rows[0], delta)
        self._top = None if top >= last_top else top
        self.refresh()

    def action_scroll_home_of_output(self) -> None:
        """Home: the folded window at the first kept line."""
        self._top = (0, 0)
        self.refresh()

    def action_follow(self) -> None:
        """End: the folded window follows the end again."""
        self._top = None
        self.refresh()

    def action_pan_by(self, delta: int) -> None:
        """Left/right while panning: ``delta`` cells."""
        self._pan = max(0, self._pan + delta)
        self.refresh()

    # -- rendering -----------------------------------------------------------------

    def _style_of(self, kind: str) -> Style:
        """The style of a kind of line (stderr, error, advice, note) or of the fold row and
        marks, cached."""
        style = self._kind_styles.get(kind)
        if style is None:
            style = self.get_component_rich_style(f"output-view--{kind}", partial=True)
            self._kind_styles[kind] = style
        return style

    def render_line(self, y: int) -> Strip:
        """Row ``y``: folded, the fold row then the window's rows (blank rows above them);
        else row ``y`` of all."""
        width = self.wrap_width
        base = self._base_style
        if base is None:
            base = self._base_style = self.rich_style
        if self._showing_window:
            if y == 0:
                return Strip([Segment(self.hidden_summary(), self._style_of("fold"))]).crop_extend(0, width, base)
            rows = self._window_rows()
            row = y - 1 - (self.FOLD_ROWS - 1 - len(rows))  # rows left blank go above the lines
            if not 0 <= row < len(rows):
                return Strip.blank(width, base)
            index, part = rows[row]
        else:
            if y >= self._row_total():
                return Strip.blank(width, base)
            index, part = self._locate(y)
        try:
            line = self.buffer.line(index)
        except IndexError:
            return Strip.blank(width, base)
        return self._render_row(line, part, width, base)

    def _render_row(self, line: str | StyledLine, part: int, width: int, base: Style) -> Strip:
        """Row ``part`` of ``line``: panned, or wrapped with a continuation mark; plain
        ASCII lines the fast way."""
        if isinstance(line, str) and line.isascii() and (len(line) <= width or not self.wrap):
            pan = 0 if self.wrap else self._pan
            text = line[pan:pan + width]
            strip = Strip([Segment(text, base)], len(text)).extend_cell_length(width, base)
            return strip if self.wrap else self._pan_marks(strip, len(line), width, base)
        if not self._wraps(line):
            strip = Strip(self._segments(line, 0, len(plain(line)), base))
            return self._pan_marks(strip.crop_extend(self._pan, self._pan + width, base),
                                   strip.cell_length, width, base)
        starts = self._starts(line, width)
        if part >= len(starts):
            return Strip.blank(width, base)
        end = starts[part + 1] if part + 1 < len(starts) else len(plain(line))
        segments = self._segments(line, starts[part], end, base)
        if part:
            segments.insert(0, Segment(continuation_prefix(plain(line), width), base + self._style_of("mark")))
        return Strip(segments).crop_extend(0, width, base)

    def _pan_marks(self, strip: Strip, cells: int, width: int, base: Style) -> Strip:
        """A panned row: ``‹`` where text is hidden to the left, ``›`` to the right."""
        left, right = self._pan > 0 and cells > 0, cells > self._pan + width
        if not (left or right) or width < 3:
            return strip
        mark = base + self._style_of("mark")
        segments = list(strip.crop(1 if left else 0, width - 1 if right else width))
        return Strip([Segment("‹", mark)] * left + segments + [Segment("›", mark)] * right)

    def _segments(self, line: str | StyledLine, start: int, end: int, base: Style) -> list[Segment]:
        """The characters ``start:end`` of ``line``, styled."""
        if isinstance(line, str):
            return [Segment(line[start:end], base)]
        kind_style = base + self._style_of(line.kind) if line.kind != "stdout" else base
        text = line.text
        segments = []
        pos = start
        for span in line.spans:
            if span.end <= pos or span.start >= end:
                continue
            if span.start > pos:
                segments.append(Segment(text[pos:span.start], kind_style))
                pos = span.start
            stop = min(span.end, end)
            segments.append(Segment(text[pos:stop], kind_style + sgr_style(span.sgr)))
            pos = stop
        if pos < end:
            segments.append(Segment(text[pos:end], kind_style))
        return segments
