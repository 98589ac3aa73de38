"""A runnable cell: header, code editor, and everything a run shows under it (printed
output, errors, live charts, image grids, how the run ended).

The lesson screen runs the code; it calls :meth:`RunnableCell.begin_run`, hands each
sandbox event to :meth:`RunnableCell.show_event`, and ends with :meth:`finish_run`.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from tutor.sandbox.events import (
    CellFailed,
    CellFinished,
    ImagesShown,
    MetricsLogged,
    OutputCapped,
    OutputStreamed,
    PlotUpdated,
)
from tutor.ui.charts import ChartData
from tutor.ui.widgets.chart_view import ChartView
from tutor.ui.widgets.editor import CodeEditor
from tutor.ui.widgets.image_grid import ImageGrid
from tutor.ui.widgets.output_view import OutputView

_ENDINGS = {  # status -> (mark, words when the sandbox gave no reason)
    "ok": ("✓", "done"),
    "error": ("✗", "failed"),
    "interrupted": ("■", "Interrupted, variables kept."),
    "timeout": ("⏱", "Stopped: took too long."),
    "killed": ("✗", "Stopped: worker restarted, variables lost."),
    "crashed": ("✗", "The worker crashed: variables lost."),
}


def failure_lines(event: CellFailed) -> tuple[list[str], list[str]]:
    """(error lines, advice lines) for a failed run, e.g.
    ``ZeroDivisionError: division by zero`` then ``  cell 3, line 2: x = 1 / 0``."""
    head = f"{event.ename}: {event.message}" if event.message else event.ename
    lines = head.splitlines() or [event.ename]
    for frame in event.frames:
        where = f"  {frame.filename}, line {frame.lineno}"
        if frame.name and frame.name != "<module>":
            where += f", in {frame.name}"
        if frame.source:
            where += f": {frame.source.strip()}"
        lines.append(where)
    advice = event.advice.splitlines() if event.advice else []
    return lines, advice


def editor_code(code: str) -> str:
    """Code as the editor shows it: without the trailing newline of the fenced block."""
    return code.rstrip("\n")


class RunnableCell(Vertical):
    """What code cells and exercises share."""

    DEFAULT_CSS = """
    RunnableCell {
        height: auto;
        margin: 1 0;
        border-left: tall $primary 40%;
        padding: 0 0 0 1;
    }
    RunnableCell.-current { border-left: tall $accent; }
    RunnableCell.-running { border-left: tall $warning; }
    RunnableCell.-failed { border-left: tall $error; }
    RunnableCell > .cell-header { height: 1; color: $text-muted; }
    RunnableCell > .cell-result { height: auto; color: $text-muted; display: none; }
    RunnableCell > .cell-result.-shown { display: block; }
    RunnableCell > .cell-result.-bad { color: $error; }
    RunnableCell > .cell-result.-warn { color: $warning; }
    RunnableCell > OutputView { display: none; }
    RunnableCell > OutputView.-shown { display: block; }
    RunnableCell > .cell-extras { height: auto; }
    """

    kind = "cell"

    class RunRequested(Message):
        """Run (for an exercise: check) this cell; posted by buttons."""

        def __init__(self, cell: "RunnableCell") -> None:
            super().__init__()
            self.cell = cell

    class ResetRequested(Message):
        """Put the lesson's code back into this cell (the screen asks first)."""

        def __init__(self, cell: "RunnableCell") -> None:
            super().__init__()
            self.cell = cell

    def __init__(self, block, number: int, code: str, **kwargs):
        super().__init__(**kwargs)
        self.block = block
        self.number = number
        self.initial_code = editor_code(code)
        self.running = False
        self.last_status: str | None = None
        self._charts: dict[str, ChartView] = {}
        self._images: dict[str | None, ImageGrid] = {}
        self._editor: CodeEditor | None = None
        # What a run shows is mounted on the first run: a lesson has a hundred cells,
        # and every widget costs time when the lesson opens.
        self._output: OutputView | None = None
        self._extras: Vertical | None = None
        self._result: Static | None = None

    @property
    def cell_id(self) -> str:
        return self.block.id

    @property
    def label(self) -> str:
        """The name of this cell in tracebacks and in the status line."""
        return f"cell {self.number}"

    @property
    def original_code(self) -> str:
        return editor_code(self.block.code)

    @property
    def editor(self) -> CodeEditor:
        if self._editor is None:
            self._editor = CodeEditor(self.initial_code, id=f"editor-{self.cell_id}")
        return self._editor

    @property
    def output(self) -> OutputView:
        if self._output is None:
            self._output = OutputView()
            self._extras = Vertical(classes="cell-extras")
            self._result = Static("", classes="cell-result")
            self.mount(self._output, self._extras, self._result, after=self.editor)
        return self._output

    @property
    def extras(self) -> Vertical:
        self.output  # noqa: B018 - mounts the run's parts
        assert self._extras is not None
        return self._extras

    @property
    def has_run_parts(self) -> bool:
        return self._output is not None

    @property
    def code(self) -> str:
        return self.editor.text

    def compose(self) -> ComposeResult:
        yield Static(self.header_text(), classes="cell-header")
        yield self.editor
        yield from self.compose_below_editor()

    def compose_below_editor(self) -> ComposeResult:
        yield from ()

    def header_text(self, state: str = "") -> Text:
        text = Text(f"[{self.number}] {self.kind}", no_wrap=True, overflow="ellipsis")
        if self.code_is_edited():
            text.append(" · edited", "italic")
        if state:
            text.append(f" · {state}")
        return text

    def code_is_edited(self) -> bool:
        try:
            return self.code != self.original_code
        except Exception:  # before compose
            return self.initial_code != self.original_code

    def set_header(self, state: str = "") -> None:
        self.query_one(".cell-header", Static).update(self.header_text(state))

    def set_result(self, text: str, tone: str = "") -> None:
        if self._result is None and not text:
            return
        self.output  # noqa: B018 - mounts the run's parts
        result = self._result
        assert result is not None
        result.set_classes(f"cell-result{' -' + tone if tone else ''}{' -shown' if text else ''}")
        result.update(text)

    def shown_parts(self) -> tuple[bool, int]:
        """(output shown, charts and images shown): changes when a run shows something new."""
        if self._output is None or self._extras is None:
            return (False, 0)
        return (self._output.has_class("-shown"), len(self._extras.children))

    def last_part(self):
        """The lowest widget showing what the last run did (to scroll into view)."""
        if self._result is not None and self._result.has_class("-shown"):
            return self._result
        if self._extras is not None and self._extras.children:
            return self._extras.children[-1]
        if self._output is not None and self._output.has_class("-shown"):
            return self._output
        return self.editor

    # -- a run ------------------------------------------------------------------------

    def mark_queued(self) -> None:
        self.set_header("queued")

    def begin_run(self) -> None:
        """Clear what the last run showed."""
        self.running = True
        self.add_class("-running")
        self.remove_class("-failed")
        self.set_header("running…")
        self.set_result("")
        self.editor.show_error_line(None)
        self.output.reset()
        self.output.remove_class("-shown")
        self.extras.remove_children()
        self._charts.clear()
        self._images.clear()

    def show_event(self, event) -> None:
        """Show one event of the running cell."""
        if isinstance(event, OutputStreamed):
            self.output.buffer.write(event.text, "stderr" if event.name == "stderr" else "stdout")
            self._output_changed()
        elif isinstance(event, OutputCapped):
            self.output.buffer.note_dropped(event.dropped_lines)
            self._output_changed()
        elif isinstance(event, MetricsLogged):
            self._chart(f"log:{event.chart}", event.chart or None).data.add_points(event.points)
            self._charts[f"log:{event.chart}"].data_changed()
        elif isinstance(event, PlotUpdated):
            view = self._chart(f"plot:{event.title or ''}", event.title)
            view.data.replace(event.kind, event.title, event.series)
            view.data_changed()
        elif isinstance(event, ImagesShown):
            self._show_images(event)
        elif isinstance(event, CellFailed):
            self.show_failure(event)

    def show_failure(self, event: CellFailed, *, mark_line: bool = True) -> None:
        errors, advice = failure_lines(event)
        self.output.buffer.add_lines(errors, "error")
        if advice:
            self.output.buffer.add_lines(advice, "advice")
        self._output_changed()
        if mark_line and event.line is not None:
            self.editor.show_error_line(event.line - 1)

    def show_note(self, lines: list[str], kind: str = "note") -> None:
        self.output.buffer.add_lines(lines, kind)
        self._output_changed()

    def finish_run(self, event: CellFinished) -> None:
        self.running = False
        self.last_status = event.status
        self.remove_class("-running")
        mark, words = _ENDINGS.get(event.status, ("?", event.status))
        self.set_class(event.status != "ok", "-failed")
        self.set_header(f"{mark} {event.duration:.2f} s" if event.status in ("ok", "error") else mark)
        notes = []
        if event.status not in ("ok", "error"):
            notes.append(event.reason or words)
        if event.threads:
            notes.append("still running in the background: " + ", ".join(event.threads))
        tone = "bad" if event.state_lost or event.status in ("crashed", "killed") else "warn"
        self.set_result("\n".join(notes), tone if notes else "")
        for chart in self._charts.values():
            chart.data_changed(now=True)

    def skip_run(self, why: str) -> None:
        """A queued run that will not happen (an earlier cell failed or was interrupted)."""
        self.running = False
        self.remove_class("-running")
        self.set_header("not run")
        self.set_result(why, "warn")

    # -- parts ------------------------------------------------------------------------

    def _output_changed(self) -> None:
        output = self.output
        if not output.has_class("-shown"):
            output.add_class("-shown")
        output.buffer_changed()

    def _chart(self, key: str, title: str | None) -> ChartView:
        view = self._charts.get(key)
        if view is None:
            view = ChartView(ChartData(key, title=title))
            self._charts[key] = view
            self.extras.mount(view)
        return view

    def _show_images(self, event: ImagesShown) -> None:
        grid = self._images.get(event.title)
        if grid is None:
            grid = ImageGrid(event.title, event.images, event.ncols)
            self._images[event.title] = grid
            self.extras.mount(grid)
        else:
            grid.show(event.title, event.images, event.ncols)

    # -- code -------------------------------------------------------------------------

    def replace_code(self, code: str) -> None:
        self.editor.load_text(code)
        self.editor.show_error_line(None)
        self.set_header()


class CodeCellView(RunnableCell):
    """An editable, runnable code cell."""

    kind = "cell"
