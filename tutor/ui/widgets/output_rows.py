"""Where a line of output breaks into rows at a given width (soft wrap).

A line wider than the view continues on the rows below it, each continuation row
starting with a faint mark (``MARK``) so that it is not read as a new line; an
indented line (a traceback's frames) keeps its indent before the mark. A row
breaks after the last space that fits, unless that leaves it less than a third
full; then it breaks mid-word, as a terminal does. Widths are terminal cells, as
Rich measures them (a CJK character takes two). :class:`RowIndex` keeps the rows of
every kept line, for a view that shows them all. No Textual here: the view asks.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate, chain

from rich.cells import cell_len, get_character_cell_size

MARK = "↪ "
MARK_WIDTH = 2
MIN_WIDTH_FOR_MARK = 8  # narrower than this, continuation rows use every cell


def continuation_prefix(text: str, width: int) -> str:
    """What starts each continuation row of ``text``: its indent (up to a third of the
    width), then the mark; nothing when the view is too narrow for a mark."""
    if width < MIN_WIDTH_FOR_MARK:
        return ""
    indent = len(text) - len(text.lstrip(" "))
    return " " * min(indent, width // 3) + MARK


def fits(text: str, width: int) -> bool:
    """Whether ``text`` takes one row at ``width`` (the common case, kept fast)."""
    if len(text) <= width and text.isascii():
        return True
    return not text.isascii() and cell_len(text) <= width


@lru_cache(maxsize=4096)
def row_starts(text: str, width: int) -> tuple[int, ...]:
    """The character offset where each row of ``text`` starts; ``(0,)`` when it fits.

    Row ``k`` shows ``text[starts[k]:starts[k + 1]]`` (a space it broke at may end
    the row, invisible, beyond the width).
    """
    width = max(1, width)
    if fits(text, width):
        return (0,)
    rest = max(1, width - len(continuation_prefix(text, width)))
    if text.isascii():
        return _ascii_starts(text, width, rest)
    return _cell_starts(text, width, rest)


def _ascii_starts(text: str, width: int, rest: int) -> tuple[int, ...]:
    """``row_starts`` for ASCII text, where a character is a cell."""
    starts = [0]
    start, room, length = 0, width, len(text)
    while length - start > room:
        end = start + room  # text[end] is the first character that does not fit
        space = text.rfind(" ", start + 1, end + 1)
        start = space + 1 if space != -1 and space - start >= room // 3 else end
        if start >= length:
            break  # only the space it broke at was left
        starts.append(start)
        room = rest
    return tuple(starts)


def _cell_starts(text: str, width: int, rest: int) -> tuple[int, ...]:
    """``row_starts`` measuring each character's cells (wide ones take two)."""
    starts = [0]
    start, room, length = 0, width, len(text)
    while True:
        used, index, space = 0, start, -1
        while index < length:
            size = get_character_cell_size(text[index])
            if used + size > room and index > start:
                break  # text[index] does not fit
            if text[index] == " ":
                space = index
            used += size
            index += 1
        if index >= length:
            return tuple(starts)
        if text[index] == " ":
            start = index + 1
        elif space != -1 and space - start >= room // 3:
            start = space + 1
        else:
            start = index
        if start >= length:
            return tuple(starts)
        starts.append(start)
        room = rest


class RowIndex:
    """How many rows each kept line of an :class:`~tutor.ui.output_buffer.OutputBuffer`
    takes, and where a row falls, kept up to date as lines come and go.

    A buffer only adds lines at the end of its head or tail and drops them from the
    front of the tail (``tail_base`` counts those); anything else bumps its
    ``generation``. So an update counts only the lines that are new: a view of 5,000
    wrapped lines that keep streaming does not measure them all again on every frame.
    """

    def __init__(self, rows_of: Callable[[object], int]) -> None:
        """``rows_of`` counts the rows of one line at the width and mode of the ``key``
        given to ``update``."""
        self.rows_of = rows_of  # rows of one line, at the width and mode of ``key``
        self._key: object = None
        self._generation = -1
        self._tail_base = 0
        self._head: list[int] = []
        self._tail: list[int] = []
        self._note = 0  # rows of the line that counts the lines not kept
        self._open = 0  # rows of the unfinished last line
        self._starts: list[int] | None = None  # first row of each line, built when asked
        self.total = 0

    def update(self, buffer, key: object) -> None:
        """Catch up with ``buffer``; ``key`` names the width and mode the rows are for."""
        if key != self._key or buffer.generation != self._generation:
            self._key, self._generation = key, buffer.generation
            self._tail_base = buffer.tail_base
            self._head, self._tail = [], []
        rows_of = self.rows_of
        head = buffer.head
        if len(head) > len(self._head):
            self._head.extend(map(rows_of, head[len(self._head):]))
        if buffer.tail_base != self._tail_base:
            del self._tail[:buffer.tail_base - self._tail_base]
            self._tail_base = buffer.tail_base
        tail = buffer.tail
        if len(tail) > len(self._tail):
            self._tail.extend(map(rows_of, tail[len(self._tail):]))
        open_line = buffer.open_line()
        self._open = rows_of(open_line) if open_line is not None else 0
        self._note = rows_of(buffer.line(len(head))) if buffer.dropped else 0
        self.total = sum(self._head) + self._note + sum(self._tail) + self._open
        self._starts = None

    def locate(self, row: int) -> tuple[int, int]:
        """(the shown line that ``row`` belongs to, the row's place within that line)."""
        if self._starts is None:
            self._starts = list(accumulate(
                chain(self._head, (self._note,) if self._note else (), self._tail, (self._open,) if self._open else ()),
                initial=0))
        line = bisect_right(self._starts, row) - 1
        return line, row - self._starts[line]
