"""A runnable cell: header, code editor, and everything a run shows under it (printed
output, errors, the tutor's training-loop advice, live charts, image grids, how the
run ended).

The lesson screen runs the code, and ``tutor/ui/run_display.py`` tells the cell how its
runs go: :meth:`RunnableCell.show_queued`, :meth:`~RunnableCell.show_run_started`, each
event to :meth:`~RunnableCell.show_reported`, and :meth:`~RunnableCell.show_run_ended`
(or :meth:`~RunnableCell.show_run_dropped`).
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from tutor.charts import ChartData
from tutor.execution import CHECK, SETUP, Job, Outcome, block_label
from tutor.sandbox.events import (
    AdviceGiven,
    CellFailed,
    CellFinished,
    CellStarted,
    ImagesShown,
    MetricsLogged,
    OutputCapped,
    OutputStreamed,
    PlotUpdated,
)
from tutor.ui import heap
from tutor.ui.widgets.advice import AdviceView
from tutor.ui.widgets.chart_view import ChartView
from tutor.ui.widgets.editor import CodeEditor
from tutor.ui.widgets.image_grid import ImageGrid
from tutor.ui.widgets.output_view import OutputView

RUNNING_DELAY = 0.05  # seconds before a running cell says so

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


def editor_language(block) -> str:
    """The editor's highlighting for a block: bash for shell cells, else Python."""
    return "bash" if block.language == "sh" else "python"


def editor_code(code: str) -> str:
    """Code as the editor shows it: without the trailing newline of the fenced block."""
    return code.rstrip("\n")


class CellHeader(Widget):
    """The cell's first row: its number and kind, then how the last run went."""

    DEFAULT_CSS = """
    CellHeader { height: 1; color: $text-muted; }
    CellHeader > .cell-header--busy { color: $warning; }
    CellHeader > .cell-header--bad { color: $error; }
    CellHeader > .cell-header--good { color: $success; }
    """
    COMPONENT_CLASSES = {"cell-header--busy", "cell-header--bad", "cell-header--good"}

    def __init__(self, text: Text, tone: str = "", **kwargs):
        """``tone`` (busy, bad, good, or none) colours the whole row."""
        super().__init__(**kwargs)
        self.text = text
        self.tone = tone

    def show(self, text: Text, tone: str = "") -> None:
        """Show ``text`` in ``tone``."""
        # A plain refresh: one row that never changes height needs no new layout.
        self.text, self.tone = text, tone
        self.refresh()

    def render(self) -> Text:
        if not self.tone:
            return self.text
        text = self.text.copy()
        text.stylize(self.get_component_rich_style(f"cell-header--{self.tone}", partial=True))
        return text


class RunnableCell(Vertical):
    """What code cells and exercises share.

    Run states show in the header and the left border through inline styles, never
    CSS classes: a class on the cell restyles every widget inside it (the editor's
    too), which cost tens of milliseconds per run.

    A cell may be told of a queued or dropped run before it is mounted (its step of the
    page is not filled yet): the header's state and the result row are kept, and drawn
    when it is. Output needs the cell mounted: the page fills its step when a run starts.
    """

    DEFAULT_CSS = """
    RunnableCell {
        height: auto;
        margin: 1 0;
        border-left: tall $primary 40%;
        padding: 0 0 0 1;
    }
    RunnableCell > .cell-result { height: auto; color: $text-muted; display: none; }
    RunnableCell > .cell-result.-bad { color: $error; }
    RunnableCell > .cell-result.-warn { color: $warning; }
    RunnableCell > OutputView { display: none; }
    RunnableCell > .cell-extras { height: auto; }
    """
    BORDER_TONES = {"": "primary", "current": "accent", "failed": "error", "passed": "success"}

    kind = "cell"
    original_words = "the lesson's code"  # what a reset puts back

    class RunRequested(Message):
        """Run (for an exercise: check) this cell; posted by buttons."""

        def __init__(self, cell: "RunnableCell") -> None:
            super().__init__()
            self.cell = cell

    class CodeReset(Message):
        """The learner put the lesson's code back into this cell."""

        def __init__(self, cell: "RunnableCell") -> None:
            super().__init__()
            self.cell = cell

    def __init__(self, block, number: int, code: str, **kwargs):
        """``code`` is what the editor starts with (the learner's saved edit, or the
        block's); widgets are made in ``compose``."""
        super().__init__(**kwargs)
        self.block = block
        self.number = number
        self.label = block_label(block, number)  # its name in tracebacks and in the status line
        self.initial_code = editor_code(code)
        self.running = False
        self.last_status: str | None = None
        self._raised: str | None = None  # the exception of the last run, for raises= cells
        self._charts: dict[str, ChartView] = {}
        self._images: dict[str | None, ImageGrid] = {}
        self._advice: AdviceView | None = None
        self.ghost = None  # the lesson's reference run for this run's live.log chart (tutor.curves)
        self._editor: CodeEditor | None = None
        # What a run shows is mounted on the first run: a lesson has a hundred cells,
        # and every widget costs time when the lesson opens.
        self._output: OutputView | None = None
        self._extras: Vertical | None = None
        self._result: Static | None = None
        self._result_shown = ("", "")  # (text, tone) of the result row now
        self._header: CellHeader | None = None
        self.is_current = False
        self.failed = False
        self._stale = False  # the last run's output is still shown while a new run starts
        self._stale_failure = False  # ...and it was a failure (its error goes once "running…" shows)
        self._run_serial = 0
        self._header_state = ("", "")

    @property
    def is_composed(self) -> bool:
        """Whether the cell's widgets are made (its step of the page is filled)."""
        return self._header is not None

    @property
    def cell_id(self) -> str:
        """The block's id in the lesson."""
        return self.block.id

    @property
    def original_code(self) -> str:
        """The lesson's code: what a reset goes back to."""
        return editor_code(self.block.code)

    @property
    def editor(self) -> CodeEditor:
        """The cell's editor, made when first asked for (an unmounted cell may never need one)."""
        if self._editor is None:
            self._editor = CodeEditor(self.initial_code, id=f"editor-{self.cell_id}",
                                      language=editor_language(self.block))
        return self._editor

    @property
    def output(self) -> OutputView:
        """The run's output view, mounted (with the extras and result row) when first asked for."""
        if self._output is None:
            self.mount(*self._run_parts(), after=self.editor)
        assert self._output is not None
        return self._output

    def _run_parts(self) -> tuple[Widget, Widget, Widget]:
        """Make what a run shows: the output, the extras (advice, charts, images), the
        result row."""
        self._output = OutputView()
        self._extras = Vertical(classes="cell-extras")
        self._result = Static("", classes="cell-result", markup=False)  # it may quote the learner's error
        self._style_result()
        return self._output, self._extras, self._result

    @property
    def extras(self) -> Vertical:
        """Where a run's advice, charts and images go (mounted with the output)."""
        self.output  # noqa: B018 - mounts the run's parts
        assert self._extras is not None
        return self._extras

    @property
    def has_run_parts(self) -> bool:
        """Whether what a run shows was made (the cell has run, or a run was dropped)."""
        return self._output is not None

    @property
    def code(self) -> str:
        """The code now in the editor, or the code it will start with when not made yet."""
        # Unmounted cells ("run all above" from a late step) make no editor for it.
        return self._editor.text if self._editor is not None else self.initial_code

    def compose(self) -> ComposeResult:
        """Header and editor; the run's parts only if a result was set before the cell was
        mounted."""
        state, tone = self._header_state
        self._header = CellHeader(self.header_text(state), tone)
        yield self._header
        yield self.editor
        if self._result_shown[0]:  # a run was dropped before the cell was mounted
            yield from self._run_parts()
        yield from self.compose_below_editor()

    def compose_below_editor(self) -> ComposeResult:
        """What a kind of cell adds under the editor (an exercise: its buttons and feedback)."""
        yield from ()

    @property
    def title(self) -> str:
        """The header's name for this cell: its kind, then the file it writes
        (``going_modular/engine.py``) or ``shell`` for a shell command."""
        what = self.block.file or ("shell" if self.block.language == "sh" else "")
        if not what:
            return self.kind
        return what if self.kind == "cell" else f"{self.kind} · {what}"

    def header_text(self, state: str = "") -> Text:
        """``[3] cell · edited · state``: number, title, whether the code was edited, the
        run's state."""
        text = Text(f"[{self.number}] {self.title}", no_wrap=True, overflow="ellipsis")
        if self.code_is_edited():
            text.append(" · edited", "italic")
        if state:
            text.append(f" · {state}")
        return text

    def code_is_edited(self) -> bool:
        """Whether the editor's code differs from the lesson's (an exercise: its starter)."""
        return self.code != self.original_code

    def set_header(self, state: str = "", tone: str = "") -> None:
        """Say ``state`` in the header, in ``tone``; kept for ``compose`` if not mounted yet."""
        self._header_state = (state, tone)
        self.refresh_header()

    def refresh_header(self) -> None:
        """Draw the header again (the code was edited): the last state stays."""
        if self._header is not None:
            state, tone = self._header_state
            self._header.show(self.header_text(state), tone)

    @property
    def header(self) -> str:
        """The header's words (tests, captures)."""
        return self._header.text.plain if self._header is not None else ""

    def border_tone(self) -> str:
        """The border's tone now: failed, current, or the stylesheet's (``BORDER_TONES``)."""
        return "failed" if self.failed else "current" if self.is_current else ""

    def apply_border(self) -> None:
        """The left border's colour says current / failed / passed (again on a theme change)."""
        tone = self.border_tone()
        if not tone:
            self.styles.clear_rule("border_left")  # back to the stylesheet's
            return
        value = self.app.get_css_variables().get(self.BORDER_TONES[tone])
        if value:
            self.styles.border_left = ("tall", Color.parse(value))

    def set_current(self, current: bool) -> None:
        """The cell is (or is no longer) the one F5 runs: its border says so."""
        if current != self.is_current:
            self.is_current = current
            self.apply_border()

    def set_result(self, text: str, tone: str = "") -> None:
        """The row under the run (how it ended, threads left running) in ``tone``; empty
        hides it."""
        if self._result_shown == (text, tone):
            return  # nothing changes: a class set again would restyle the widget (every run)
        self._result_shown = (text, tone)
        if not self.is_composed or (self._result is None and not text):
            return  # not mounted yet (compose shows it), or nothing to show
        self.output  # noqa: B018 - mounts the run's parts
        self._style_result()

    def _style_result(self) -> None:
        """Draw the result row as ``_result_shown`` says."""
        text, tone = self._result_shown
        result = self._result
        assert result is not None
        result.set_classes(f"cell-result{' -' + tone if tone else ''}")
        result.display = bool(text)
        result.update(text)

    def shown_parts(self) -> tuple[bool, int]:
        """(output shown, charts and images shown): changes when a run shows something new."""
        if self._output is None or self._extras is None:
            return (False, 0)
        return (self._output.display, len(self._extras.children))

    def last_part(self):
        """The lowest widget showing what the last run did (to scroll into view)."""
        if self._result is not None and self._result.display:
            return self._result
        if self._extras is not None and self._extras.children:
            return self._extras.children[-1]
        if self._output is not None and self._output.display:
            return self._output
        return self.editor

    # -- a run ------------------------------------------------------------------------

    def accepts_run(self) -> bool:
        """Whether a new run of this cell may be queued now."""
        return True

    def show_queued(self, job: Job, waiting: bool) -> None:
        """A run of this cell was queued; ``waiting``: behind another run."""
        if waiting:
            self.set_header("queued", "busy")

    def begin_run(self) -> None:
        """A run starts. What the last run showed stays until the new one shows something
        (or ends): clearing at once would re-lay out the page twice per run. A failed
        run's error goes once the cell says it runs (under "running…" it read as the
        new run's)."""
        self.running = True
        self._raised = None
        self._stale = self._output is not None
        self._stale_failure = self._stale and self.failed
        if self._output is not None:
            self._output.hold_height()
        # Said only if the cell is still running a moment later: a fast cell's output
        # then comes first, and its header does not flicker.
        self._run_serial += 1
        # An asyncio timer: a Textual one is a task of its own, on every run's way.
        asyncio.get_running_loop().call_later(RUNNING_DELAY, self._say_running, self._run_serial)
        if self.failed:
            self.failed = False
            self.apply_border()
        self.editor.show_error_line(None)

    def _say_running(self, serial: int) -> None:
        """``running…`` in the header, if run ``serial`` still runs ``RUNNING_DELAY`` after
        it began."""
        if self.running and serial == self._run_serial and self.is_attached:
            self.set_header("running…", "busy")
            if self._stale_failure and self._stale:
                self._stale_failure = False
                self._clear_stale()  # all of the failed run goes, as when the new run shows something
                if self._output is not None:
                    self._output.buffer_changed()  # its rows are held until the run ends: the page stays

    def _clear_stale(self) -> None:
        """Drop the last run's output, charts and notes (once per run, when needed)."""
        if not self._stale:
            return
        self._stale = False
        self.set_result("")
        if self._output is not None and len(self._output.buffer):
            self._output.reset(redraw=False)  # the new run's first write redraws
        if self._extras is not None and self._extras.children:
            self._extras.remove_children()
        self._charts.clear()
        self._images.clear()
        self._advice = None

    def show_event(self, event) -> None:
        """Show one event of the running cell."""
        self._clear_stale()
        if isinstance(event, OutputStreamed):
            self.output.buffer.write(event.text, "stderr" if event.name == "stderr" else "stdout")
            self._output_changed()
        elif isinstance(event, OutputCapped):
            self.output.buffer.note_dropped(event.dropped_lines, event.dropped_bytes)
            self._output_changed()
        elif isinstance(event, MetricsLogged):
            view = self._chart("log", None)
            view.data.add_points(event.points)
            view.data_changed()
        elif isinstance(event, PlotUpdated):
            view = self._chart(f"plot:{event.title or ''}", event.title)
            view.data.replace(event.kind, event.title, event.series)
            view.data_changed()
        elif isinstance(event, ImagesShown):
            self._show_images(event)
        elif isinstance(event, AdviceGiven):
            self._show_advice(event)
        elif isinstance(event, CellFailed):
            self.show_failure(event)

    def show_failure(self, event: CellFailed, *, mark_line: bool = True) -> None:
        """The traceback (and the tutor's advice on it) in the output; ``mark_line``: mark
        the failing line in the editor."""
        self._clear_stale()
        self._raised = event.ename
        errors, advice = failure_lines(event)
        self.output.buffer.add_lines(errors, "error")
        if advice:
            self.output.buffer.add_lines(advice, "advice")
        self._output_changed()
        if mark_line and event.line is not None:
            self.editor.show_error_line(event.line - 1)

    def show_note(self, lines: list[str], kind: str = "note") -> None:
        """Lines of the tutor's own (``kind`` note, error or advice) in the output."""
        self._clear_stale()
        self.output.buffer.add_lines(lines, kind)
        self._output_changed()

    def finish_run(self, event: CellFinished, *, expected_error: bool = False) -> None:
        """How the run ended; ``expected_error``: a ``raises=`` cell raised what it should."""
        self.running = False
        self._clear_stale()
        if self._output is not None:
            self._output.release_height()
            if self._output.display and not len(self._output.buffer):
                self._output.display = False
                self._output.buffer_changed()
        self.last_status = event.status
        mark, words = _ENDINGS.get(event.status, ("?", event.status))
        ok = event.status == "ok" or expected_error
        if expected_error:
            self.set_header(f"✓ raised {self._raised or self.block.raises}, as this cell means to", "good")
        else:
            self.set_header(f"{mark} {event.duration:.2f} s" if event.status in ("ok", "error") else mark,
                            "" if ok else "bad")
        if self.failed != (not ok):
            self.failed = not ok
            self.apply_border()
        notes = []
        if event.status not in ("ok", "error") or event.reason:  # an error that cost the worker says so
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
        self._clear_stale()
        if self._output is not None:
            self._output.release_height()
        self.set_header("not run", "busy")
        self.set_result(why, "warn")

    # -- a run of the queue (the lesson screen hands each message on) -------------------

    def show_run_started(self, job: Job) -> None:
        """A run of this cell began in the worker (a queued one, or one replayed)."""
        self.begin_run()

    def show_reported(self, phase: str, event) -> bool:
        """One event of this cell's run; True when it showed something new (to scroll to).
        What a check prints stays hidden: its verdict comes when the run ends."""
        if phase == CHECK or isinstance(event, (CellStarted, CellFinished)):
            return False
        if phase == SETUP and isinstance(event, CellFailed):
            self.show_note(["The lesson's hidden setup code failed:"], "error")
            self.show_failure(event, mark_line=False)
            return False
        before = self.shown_parts()
        self.show_event(event)
        return self.shown_parts() != before

    def show_run_ended(self, job: Job, outcome: Outcome) -> None:
        """How the run ended, then the tutor's advice on it if any."""
        self._show_ending(outcome)
        if outcome.finished is not None and outcome.advice:
            self.show_note(outcome.advice, "note")

    def _show_ending(self, outcome: Outcome) -> None:
        """Finish the run (or say it did not run), then let the collector settle what it built."""
        if outcome.finished is not None:
            self.finish_run(outcome.finished, expected_error=outcome.expected_error)
        else:
            self.skip_run(outcome.feedback or "did not run")
        heap.settle_after_run()  # what the run built, out of the collector's way

    def show_run_dropped(self, job: Job, why: str) -> None:
        """The queue dropped the run before it started: ``why`` says it was not run."""
        self.skip_run(why)

    # -- parts ------------------------------------------------------------------------

    def _output_changed(self) -> None:
        """Show the output view (it starts hidden) and redraw it."""
        output = self.output
        if not output.display:
            output.display = True
        output.buffer_changed()

    def _chart(self, key: str, title: str | None) -> ChartView:
        """The chart ``key`` of this run (``log`` for live.log, ``plot:<title>``), mounted
        when first needed."""
        view = self._charts.get(key)
        if view is None:
            view = ChartView(ChartData(key, title=title, ghost=self.ghost if key == "log" else None))
            self._charts[key] = view
            self.extras.mount(view)
        return view

    def _show_advice(self, event: AdviceGiven) -> None:
        """Training-loop advice: first among the run's extras (above its charts)."""
        if self._advice is None:
            self._advice = AdviceView(classes="cell-advice")
            extras = self.extras
            extras.mount(self._advice, before=0 if extras.children else None)
        self._advice.add(event)

    @property
    def advice(self) -> AdviceView | None:
        """The advice of the last run (None when it had none)."""
        return self._advice

    def _show_images(self, event: ImagesShown) -> None:
        """A grid per title: a new title adds one, the same title replaces its images."""
        grid = self._images.get(event.title)
        if grid is None:
            grid = ImageGrid(event.title, event.images, event.ncols)
            self._images[event.title] = grid
            self.extras.mount(grid)
        else:
            grid.show(event.title, event.images, event.ncols)

    # -- code -------------------------------------------------------------------------

    def on_text_area_changed(self, event) -> None:
        """The learner edited the code: an old error mark may be wrong now; the header
        says "edited". (The event goes on to the screen, which saves the edit.)"""
        if event.text_area is not self._editor or self._editor.read_only:
            return
        if self._editor.error_line is not None:
            self._editor.show_error_line(None)
        self.refresh_header()

    def replace_code(self, code: str) -> None:
        """Load ``code`` into the editor; the error mark and the header's state go."""
        self.editor.load_text(code)
        self.editor.show_error_line(None)
        self.set_header()

    def ask_reset(self) -> None:
        """Put the lesson's code back once the learner says yes (not while it runs)."""
        if self.running:
            self.app.notify("The cell is running: stop it first (F7).", timeout=3)
            return
        if self.code == self.original_code:
            self.app.notify("This cell already has the lesson's code.", timeout=3)
            return
        from tutor.ui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.replace_code(self.original_code)
                self.post_message(self.CodeReset(self))

        self.app.push_screen(ConfirmScreen(f"Put {self.original_words} back into {self.label}? Your edits "
                                           "are lost.", yes="Reset"), answered)


class CodeCellView(RunnableCell):
    """An editable, runnable code cell."""

    kind = "cell"
