"""The code editor of a cell: highlighting (tree-sitter: Python, or bash for shell
cells), line numbers, sized to its content, and the line where the last run failed
marked in red. PgDn/PgUp move through the code, and page the lesson from its last
(first) line; Ctrl+Home/End go to the code's start/end."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding
from textual.widgets import TextArea

from tutor.ui.widgets.keys_in_order import KeysInOrder

try:
    from textual.document._syntax_aware_document import SyntaxAwareDocument
except ImportError:  # pragma: no cover - textual without tree-sitter: plain editors
    SyntaxAwareDocument = None

# TextArea compiles the tree-sitter highlight query for every editor, twice (about 20 ms
# each on a quiet machine), and a lesson has up to a hundred editors. A compiled query
# belongs to the language, not to a document, so one serves them all. (Textual is
# pinned exactly; this is the one place that reaches into it.)
_QUERIES: dict[tuple[int, str], tuple[object, object]] = {}
if SyntaxAwareDocument is not None and not getattr(SyntaxAwareDocument.prepare_query, "_tutor_cached", False):
    _compile_query = SyntaxAwareDocument.prepare_query

    def _prepare_query_once(self, query: str):
        """``prepare_query``, compiled once per language and query for every editor."""
        key = (id(self.language), query)
        if key not in _QUERIES:
            _QUERIES[key] = (self.language, _compile_query(self, query))  # the language kept alive
        return _QUERIES[key][1]

    _prepare_query_once._tutor_cached = True  # type: ignore[attr-defined]
    SyntaxAwareDocument.prepare_query = _prepare_query_once


class CodeEditor(KeysInOrder, TextArea, inherit_bindings=False):
    DEFAULT_CSS = """
    CodeEditor {
        height: auto;
        max-height: 40;
        border: none;
        padding: 0;
        background: $surface;
    }
    CodeEditor:focus {
        border: none;
        background: $surface-lighten-1;
    }
    CodeEditor > .code-editor--error-line {
        background: $error 35%;
    }
    """
    COMPONENT_CLASSES = TextArea.COMPONENT_CLASSES | {"code-editor--error-line"}

    # TextArea's keys, less F6/F7 (select line/all): the lesson uses those to run and stop.
    BINDINGS = [b for b in TextArea.BINDINGS if getattr(b, "key", "") not in ("f6", "f7")] + [
        # Leave the editor without a mouse: the cell keeps the keys (run, reset, ...).
        Binding("escape", "leave", "Leave editor", show=False),
        # The start and end of the cell's code, as in other editors (TextArea has no such keys).
        Binding("ctrl+home", "cursor_code_start", "Start of code", show=False),
        Binding("ctrl+end", "cursor_code_end", "End of code", show=False),
        Binding("ctrl+shift+home", "cursor_code_start(True)", "Select to start", show=False),
        Binding("ctrl+shift+end", "cursor_code_end(True)", "Select to end", show=False),
    ]

    blink = True  # tests switch it off for stable snapshots

    def __init__(self, code: str, *, read_only: bool = False, id: str | None = None, language: str = "python"):
        """Soft-wrapped, with line numbers; Tab moves the focus on rather than indenting."""
        super().__init__(
            code,
            language=language,
            show_line_numbers=True,
            read_only=read_only,
            soft_wrap=True,  # long lines wrap: at 80 columns a hidden tail misleads
            tab_behavior="focus",  # tab moves on, as in a form; indent with spaces
            id=id,
        )
        self.error_line: int | None = None  # 0-based
        self.cursor_blink = self.blink

    def show_error_line(self, line: int | None) -> None:
        """Mark ``line`` (0-based) as where the last run failed; None clears the mark."""
        if line is not None and not 0 <= line < self.document.line_count:
            line = None
        if line != self.error_line:
            self.error_line = line
            self.notify_style_update()  # drops TextArea's line cache
            self.refresh()

    def get_line(self, line_index: int) -> Text:
        """TextArea's line, on red where the last run failed."""
        line = super().get_line(line_index)
        if line_index == self.error_line:
            style = self.get_component_rich_style("code-editor--error-line", partial=True)
            line.stylize(style or Style(bgcolor="red"))
        return line

    def action_cursor_page_down(self) -> None:
        """PgDn pages through the code, as in a notebook; from its last line there is no
        more code that way, so the key goes on to the lesson page around it."""
        if self.cursor_location[0] >= self.document.line_count - 1:
            raise SkipAction()
        super().action_cursor_page_down()

    def action_cursor_page_up(self) -> None:
        """PgUp: as PgDn, upward; from the first line the lesson page moves."""
        if self.cursor_location[0] == 0:
            raise SkipAction()
        super().action_cursor_page_up()

    def action_cursor_code_start(self, select: bool = False) -> None:
        self.move_cursor((0, 0), select=select)

    def action_cursor_code_end(self, select: bool = False) -> None:
        self.move_cursor(self.document.end, select=select)

    def action_leave(self) -> None:
        """Focus the cell around the editor (its keys still work there)."""
        parent = self.parent
        while parent is not None and not getattr(parent, "can_focus", False):
            parent = parent.parent
        if parent is not None:
            parent.focus()  # type: ignore[union-attr]
        else:
            self.screen.set_focus(None)
