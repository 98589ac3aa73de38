"""A cell's printed output, line-virtualised: only the rows on screen are rendered.

Reads an :class:`~tutor.ui.output_buffer.OutputBuffer`. Folded (the default), long
output shows its last ``FOLD_ROWS`` lines under a row that counts what is hidden; the
window follows new output unless the learner scrolled it. ``o`` unfolds everything
that was kept. Lines are never wrapped: ``left``/``right`` pan, as in a terminal log.
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

from tutor.ui.output_buffer import OutputBuffer, StyledLine


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
    """

    COMPONENT_CLASSES = {
        "output-view--stderr", "output-view--error", "output-view--advice",
        "output-view--note", "output-view--fold",
    }

    BINDINGS = [
        Binding("o", "toggle_fold", "Fold/unfold", show=True),
        Binding("up", "scroll_lines(-1)", "Up", show=False),
        Binding("down", "scroll_lines(1)", "Down", show=False),
        Binding("pageup", "scroll_lines(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_lines(10)", "Page down", show=False),
        Binding("home", "scroll_home_of_output", "Top", show=False),
        Binding("end", "follow", "Follow", show=False),
        Binding("left", "pan(-8)", "Left", show=False),
        Binding("right", "pan(8)", "Right", show=False),
    ]

    FOLD_ROWS = 12
    folded: reactive[bool] = reactive(True, layout=True)

    def __init__(self, buffer: OutputBuffer | None = None, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.buffer = buffer if buffer is not None else OutputBuffer()
        self._top: int | None = None  # first line of the folded window; None: follow the end
        self._pan = 0
        self._rows = 0  # rows last laid out
        self._kind_styles: dict[str, Style] = {}

    # -- what is shown -------------------------------------------------------------

    @property
    def is_foldable(self) -> bool:
        return len(self.buffer) > self.FOLD_ROWS

    def _window(self) -> tuple[int, int, int]:
        """(first line shown, lines shown, hidden lines above) for the current state."""
        count = len(self.buffer)
        if not self.folded or count <= self.FOLD_ROWS:
            return 0, count, 0
        shown = self.FOLD_ROWS - 1  # one row tells what is hidden
        last_top = count - shown
        top = last_top if self._top is None else max(0, min(self._top, last_top))
        return top, shown, top

    def row_count(self) -> int:
        count = len(self.buffer)
        if self.folded and count > self.FOLD_ROWS:
            return self.FOLD_ROWS
        return count

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.row_count()

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def hidden_summary(self) -> str:
        """The fold row's text, e.g. ``⋯ 99,989 lines above · o unfolds``."""
        top, shown, _ = self._window()
        above = self.buffer.lines_before(top)
        below = self.buffer.total_lines - self.buffer.lines_before(top + shown)
        parts = []
        if above:
            parts.append(f"{above:,} line{'s' * (above != 1)} above")
        if below:
            parts.append(f"{below:,} below")
        if not parts:
            return ""
        dropped = f" ({self.buffer.dropped:,} not kept)" if self.buffer.dropped else ""
        return "⋯ " + ", ".join(parts) + dropped + " · o unfolds"

    # -- updates -------------------------------------------------------------------

    def buffer_changed(self) -> None:
        """Call after writing to the buffer: redraws, and re-lays out when the height changes."""
        # A tab stop only where there is something to do (fold, scroll, pan long lines).
        self.can_focus = self.is_foldable or not self.folded
        rows = self.row_count()
        if rows != self._rows:
            self._rows = rows
            self.refresh(layout=True)
        else:
            self.refresh()

    def reset(self, redraw: bool = True) -> None:
        """Empty the view (``redraw=False``: the caller writes again at once)."""
        self.buffer.clear()
        self._top = None
        self._pan = 0
        self.folded = True
        if redraw:
            self.buffer_changed()

    def notify_style_update(self) -> None:
        self._kind_styles.clear()
        super().notify_style_update()

    # -- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Scrolling keys belong to the page unless there is a folded window to move.
        if action in ("scroll_lines", "scroll_home_of_output", "follow"):
            return self.folded and self.is_foldable
        if action == "toggle_fold":
            return self.is_foldable
        return True

    def action_toggle_fold(self) -> None:
        self.folded = not self.folded
        self._top = None
        self.buffer_changed()

    def action_scroll_lines(self, delta: int) -> None:
        top, shown, _ = self._window()
        last_top = len(self.buffer) - shown
        new_top = max(0, min(top + delta, last_top))
        self._top = None if new_top >= last_top else new_top
        self.refresh()

    def action_scroll_home_of_output(self) -> None:
        self._top = 0
        self.refresh()

    def action_follow(self) -> None:
        self._top = None
        self.refresh()

    def action_pan(self, delta: int) -> None:
        self._pan = max(0, self._pan + delta)
        self.refresh()

    # -- rendering -----------------------------------------------------------------

    def _style_of(self, kind: str) -> Style:
        style = self._kind_styles.get(kind)
        if style is None:
            style = self.get_component_rich_style(f"output-view--{kind}", partial=True)
            self._kind_styles[kind] = style
        return style

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        base = self.rich_style
        top, shown, hidden_above = self._window()
        if self.folded and self.is_foldable:
            if y == 0:
                return Strip([Segment(self.hidden_summary(), self._style_of("fold"))]).crop_extend(0, width, base)
            y -= 1
        if y >= shown:
            return Strip.blank(width, base)
        try:
            line = self.buffer.line(top + y)
        except IndexError:
            return Strip.blank(width, base)
        return self._render_text_line(line, width, base)

    def _render_text_line(self, line: str | StyledLine, width: int, base: Style) -> Strip:
        pan = self._pan
        if isinstance(line, str):
            if line.isascii():
                text = line[pan:pan + width]
                return Strip([Segment(text, base)], len(text)).extend_cell_length(width, base)
            segments = [Segment(line, base)]
        else:
            kind_style = base + self._style_of(line.kind) if line.kind != "stdout" else base
            segments = []
            pos = 0
            for span in line.spans:
                if span.start > pos:
                    segments.append(Segment(line.text[pos:span.start], kind_style))
                segments.append(Segment(line.text[span.start:span.end], kind_style + sgr_style(span.sgr)))
                pos = span.end
            if pos < len(line.text):
                segments.append(Segment(line.text[pos:], kind_style))
        return Strip(segments).crop_extend(pan, pan + width, base)
