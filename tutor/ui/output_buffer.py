"""The lines a cell printed, kept as plain text plus ANSI colour spans (no Textual here).

Built for floods: a chunk of 10^5 plain lines costs one ``split`` and a list extend.
Lines with SGR colour codes are stored as :class:`StyledLine` (plain text, spans);
plain stdout lines stay bare ``str``. At most ``head + tail`` lines are kept: the first
``head`` and a window of the last ``tail`` (the middle is counted, not kept), so a
cell that prints forever costs bounded memory. ``\\r`` moves to the start of the line
(progress bars), and the unfinished last line is shown while it grows.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_ESC = "\x1b"
MAX_LINE = 4000  # characters kept of one line; the rest is counted


class Span(NamedTuple):
    start: int
    end: int
    sgr: str  # the SGR parameters in force, e.g. "1;31" (bold red)


class StyledLine(NamedTuple):
    """A line that is not plain stdout: coloured, from stderr, or a note of ours."""

    text: str
    spans: tuple[Span, ...] = ()
    kind: str = "stdout"  # stdout | stderr | error | advice | note


Line = "str | StyledLine"


def plain(line: str | StyledLine) -> str:
    """The text of a line, without its colours."""
    return line if isinstance(line, str) else line.text


def _merge_sgr(state: list[str], params: str) -> list[str]:
    """The SGR state after ``params``: a reset clears it, anything else adds to it."""
    codes = params.split(";") if params else ["0"]
    for code in codes:
        if code in ("", "0"):
            state = []
        else:
            state = state + [code]
    return state


def parse_ansi(raw: str, state: list[str]) -> tuple[str, tuple[Span, ...], list[str]]:
    """Strip SGR codes from one line: (plain text, spans, state at the end of the line)."""
    out: list[str] = []
    spans: list[Span] = []
    pos = 0
    length = 0
    for match in _SGR.finditer(raw):
        chunk = raw[pos:match.start()]
        if chunk:
            if state:
                spans.append(Span(length, length + len(chunk), ";".join(state)))
            out.append(chunk)
            length += len(chunk)
        state = _merge_sgr(state, match.group(1))
        pos = match.end()
    chunk = raw[pos:]
    if chunk:
        if state:
            spans.append(Span(length, length + len(chunk), ";".join(state)))
        out.append(chunk)
    # Other escape sequences (cursor moves) cannot be shown in a log: drop the ESC byte.
    text = "".join(out).replace(_ESC, "")
    return text, tuple(spans), state


def _overwrite(current: str, col: int, segment: str) -> tuple[str, int]:
    """Write ``segment`` at column ``col`` as a terminal would (carriage-return aware)."""
    if col == 0 and len(segment) >= len(current):
        return segment, len(segment)
    return current[:col] + segment + current[col + len(segment):], col + len(segment)


class OutputBuffer:
    """Head and tail of a cell's output, the count of what was dropped, the open line."""

    def __init__(self, head: int = 500, tail: int = 5000):
        """Keep the first ``head`` lines and a window of the last ``tail``; the middle is
        counted in ``dropped``."""
        self.head_cap = head
        self.tail_cap = tail
        self._head: list[str | StyledLine] = []
        self._tail: list[str | StyledLine] = []
        self.dropped = 0  # lines not kept, by us or by the sandbox's own cap
        self._partial = ""  # the unfinished last line (raw, may hold SGR codes)
        self._col = 0  # where the next character of the open line goes
        self._partial_kind = "stdout"
        self._partial_extra = 0  # characters of the open line beyond MAX_LINE, not kept
        self._sgr_state: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.version = 0  # bumped on every change, so views know when to redraw
        self._head_closed = False
        # For views that index the lines: lines are only ever added at the end of the
        # head or the tail, and dropped from the front of the tail (``tail_base`` counts
        # those); anything else (clear, the sandbox's cap) bumps ``generation``.
        self.tail_base = 0
        self.generation = 0
        # At least as wide (in terminal cells) as any line kept, and as any stdout line
        # kept (those may pan): a view that is wider wraps nothing. A non-ASCII line
        # counts double (a CJK character takes two cells).
        self.widest = 0
        self.widest_stdout = 0

    # -- reading -------------------------------------------------------------------

    def __len__(self) -> int:
        """Lines shown: the head, one line that counts those dropped (if any), the tail, the
        open line."""
        return len(self._head) + (1 if self.dropped else 0) + len(self._tail) + (1 if self._partial else 0)

    @property
    def total_lines(self) -> int:
        """Every line the cell printed, kept or not (the open line included)."""
        return len(self._head) + self.dropped + len(self._tail) + (1 if self._partial else 0)

    def line(self, index: int) -> str | StyledLine:
        """The ``index``-th line shown: head, a note for the dropped middle, tail, open line."""
        if index < 0:
            index += len(self)
        head = self._head
        if index < len(head):
            return head[index]
        index -= len(head)
        if self.dropped:
            if index == 0:
                return StyledLine(f"⋯ {self.dropped:,} lines not kept ⋯", (), "note")
            index -= 1
        if index < len(self._tail):
            return self._tail[index]
        if index == len(self._tail) and self._partial:
            return self._make_line(self._partial, self._partial_kind, commit=False)
        raise IndexError(index)

    @property
    def head(self) -> list[str | StyledLine]:
        """The first lines kept (read only)."""
        return self._head

    @property
    def tail(self) -> list[str | StyledLine]:
        """The last lines kept, the open line aside (read only)."""
        return self._tail

    def open_line(self) -> str | StyledLine | None:
        """The unfinished last line, if any, as it is shown."""
        return self._make_line(self._partial, self._partial_kind, commit=False) if self._partial else None

    def lines_before(self, index: int) -> int:
        """How many printed lines (kept or not) come before the ``index``-th shown line."""
        if self.dropped and index > len(self._head):
            return index - 1 + self.dropped
        return index

    def text(self) -> str:
        """All shown lines as plain text (tests, copying)."""
        return "\n".join(plain(self.line(i)) for i in range(len(self)))

    # -- writing -------------------------------------------------------------------

    def write(self, text: str, kind: str = "stdout") -> None:
        """Add streamed text; ``kind`` is ``stdout`` or ``stderr``."""
        if not text:
            return
        self.version += 1
        if self._partial and kind != self._partial_kind:
            self._commit_partial()  # interleaved streams: do not glue their lines together
        self._partial_kind = kind
        parts = text.split("\n")
        if len(parts) == 1:
            self._extend_partial(parts[0])
            return
        self._extend_partial(parts[0])
        self._commit_partial()
        middle = parts[1:-1]
        if middle:
            if (kind == "stdout" and not self._sgr_state["stdout"] and "\r" not in text
                    and _ESC not in text and "\t" not in text):
                self._keep([p if len(p) <= MAX_LINE else self._clip(p) for p in middle], kind)
            else:
                self._keep([self._make_line(self._resolve_cr(p), kind) for p in middle], kind)
        self._extend_partial(parts[-1])

    def add_lines(self, lines: list[str], kind: str) -> None:
        """Lines of ours (an error, advice, a note), shown with the style of ``kind``."""
        self.version += 1
        if self._partial:
            self._commit_partial()
        self._keep([StyledLine(l, (), kind) for l in lines], kind)

    def note_dropped(self, count: int, chars: int = 0) -> None:
        """The sandbox dropped ``count`` lines of this cell (its own cap): it streamed the
        head, says this, then sends the tail. What follows goes after the gap. A cut inside
        one huge line (no line dropped, ``chars`` of it) leaves that line open: the tail
        ends it, and its count of characters not shown includes the ``chars`` dropped."""
        self.version += 1
        if not count and self._partial:
            self._partial_extra += chars
            return
        if self._partial:
            self._commit_partial()
        if self.dropped:
            self.dropped += len(self._tail)  # the end of the head is now middle too
        else:
            self._head.extend(self._tail)
        self._tail = []
        self._head_closed = True
        self.dropped += count
        self.generation += 1

    def clear(self) -> None:
        """Empty it; ``version`` and ``generation`` go on counting, so views see a change."""
        version, generation = self.version, self.generation
        self.__init__(self.head_cap, self.tail_cap)  # type: ignore[misc]
        self.version = version + 1
        self.generation = generation + 1

    # -- internals -----------------------------------------------------------------

    def _extend_partial(self, chunk: str) -> None:
        """Add a chunk with no newline to the open line: ``\\r`` goes back to its start;
        what goes past ``MAX_LINE`` is only counted."""
        if not chunk:
            return
        if self._partial_extra and "\r" not in chunk:
            self._partial_extra += len(chunk)  # a huge line: only its start is kept
            return
        if "\r" not in chunk:
            if self._col >= len(self._partial):
                self._partial += chunk
                self._col = len(self._partial)
            else:
                self._partial, self._col = _overwrite(self._partial, self._col, chunk)
        else:
            for i, segment in enumerate(chunk.split("\r")):
                if i:
                    self._col = 0
                if segment:
                    if _ESC in segment or _ESC in self._partial:
                        # Coloured redraws (rich progress bars) repaint the whole line.
                        self._partial, self._col = (segment, len(segment)) if self._col == 0 else (
                            self._partial + segment, len(self._partial) + len(segment))
                    else:
                        self._partial, self._col = _overwrite(self._partial, self._col, segment)
        if len(self._partial) > MAX_LINE:
            self._partial_extra += len(self._partial) - MAX_LINE
            self._partial = self._partial[:MAX_LINE]
            self._col = min(self._col, MAX_LINE)
        self._note_widths([self._partial], self._partial_kind)

    def _commit_partial(self) -> None:
        """The open line is finished: keep it, with a note of the characters it lost."""
        line, self._partial, self._col = self._partial, "", 0
        made = self._make_line(line, self._partial_kind)
        if self._partial_extra:
            note = f"… ({self._partial_extra:,} more characters)"
            made = made + note if isinstance(made, str) else made._replace(text=made.text + note)
            self._partial_extra = 0
        self._keep([made], self._partial_kind)

    def _resolve_cr(self, raw: str) -> str:
        """A whole line as a terminal shows it after its carriage returns."""
        if "\r" not in raw:
            return raw
        current, col = "", 0
        for i, segment in enumerate(raw.split("\r")):
            if i:
                col = 0
            if segment:
                current, col = _overwrite(current, col, segment)
        return current

    @staticmethod
    def _clip(text: str) -> str:
        """The first ``MAX_LINE`` characters and a count of the rest."""
        return f"{text[:MAX_LINE]}… ({len(text) - MAX_LINE:,} more characters)"

    def _make_line(self, raw: str, kind: str, commit: bool = True) -> str | StyledLine:
        """One raw line as kept: tabs expanded, SGR codes turned to spans (their state
        carried on if ``commit``), clipped."""
        raw = raw.expandtabs(8) if "\t" in raw else raw
        if _ESC in raw:
            state = self._sgr_state.setdefault(kind, [])
            text, spans, end_state = parse_ansi(raw, list(state))
            if commit:
                self._sgr_state[kind] = end_state  # colours carry over to the next line
        else:
            state = self._sgr_state.get(kind) or []
            text = raw
            spans = (Span(0, len(raw), ";".join(state)),) if state and raw else ()
        if len(text) > MAX_LINE:
            text = self._clip(text)
        if kind == "stdout" and not spans:
            return text
        return StyledLine(text, spans, kind)

    def _keep(self, lines: list, kind: str) -> None:
        """Add finished lines: to the head while it has room, then to the tail, dropping its
        oldest."""
        room = 0 if self._head_closed else self.head_cap - len(self._head)
        if room > 0:
            self._note_widths(lines[:room], kind)
            self._head.extend(lines[:room])
            lines = lines[room:]
            if not lines:
                return
        tail = self._tail
        if len(lines) >= self.tail_cap:
            self.dropped += len(tail) + len(lines) - self.tail_cap
            self.tail_base += len(tail) + len(lines) - self.tail_cap
            self._tail = lines[-self.tail_cap:]
            self._note_widths(self._tail, kind)
            return
        self._note_widths(lines, kind)
        tail.extend(lines)
        excess = len(tail) - self.tail_cap
        # Trim in blocks (amortised O(1) per line), keeping between tail_cap and
        # 1.25 * tail_cap lines.
        if excess > self.tail_cap // 4:
            del tail[:excess]
            self.dropped += excess
            self.tail_base += excess

    def _note_widths(self, lines: list, kind: str) -> None:
        """Raise ``widest`` (and ``widest_stdout``) to cover ``lines``, measuring cells only
        when it may matter."""
        texts = list(map(plain, lines))
        longest = max(map(len, texts), default=0)
        widest = self.widest_stdout if kind == "stdout" else self.widest
        # Rare: most output is no wider than what came before it.
        if longest > widest or (2 * longest > widest and not all(map(str.isascii, texts))):
            widest = max(widest, max(map(_cells_at_most, texts)))
            self.widest = max(self.widest, widest)
            if kind == "stdout":
                self.widest_stdout = widest


def _cells_at_most(text: str) -> int:
    """An upper bound of the cells ``text`` takes, without measuring each character."""
    return len(text) if text.isascii() else 2 * len(text)
