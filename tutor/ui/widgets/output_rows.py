"""Where a line of output breaks into rows at a given width (soft wrap).

A line wider than the view continues on the rows below it, each continuation row
starting with a faint mark (``MARK``) so that it is not read as a new line; an
indented line (a traceback's frames) keeps its indent before the mark. A row
breaks after the last space that fits, unless that leaves it less than a third
full; then it breaks mid-word, as a terminal does. Widths are terminal cells, as
Rich measures them (a CJK character takes two). No Textual here: the view asks.
"""

from __future__ import annotations

from functools import lru_cache

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
