"""Learner frames: tracebacks in cell lines, never worker internals. Stdlib only."""

from __future__ import annotations

import difflib
import linecache
import re
import traceback
from collections.abc import Collection

MAX_FRAMES = 40  # a deep recursion keeps its first and last frames
REPEATS_KEPT = 3


def remember_source(label: str, code: str) -> None:
    """Let tracebacks show the cell's lines (the latest code run under this label)."""
    lines = code.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    linecache.cache[label] = (len(code), None, lines, label)


def frame_dict(filename: str, lineno: int, name: str, source: str | None) -> dict:
    return {"filename": filename, "lineno": lineno, "name": name, "source": source}


def learner_frames(tb, labels: Collection[str]) -> list[dict]:
    """The frames of ``tb`` that run learner code (outermost first), repeats collapsed."""
    frames = []
    for summary in traceback.extract_tb(tb):
        if summary.filename in labels:
            frames.append(frame_dict(summary.filename, summary.lineno or 0, cut(summary.name, 200),
                                     cut((summary.line or "").strip(), 2000) or None))
    return shorten(frames)


def shorten(frames: list[dict]) -> list[dict]:
    """Collapse runs of one repeated frame (recursion) and cap the count."""
    out: list[dict] = []
    run = 0
    for frame in frames:
        if out and _same(out[-1], frame):
            run += 1
            if run >= REPEATS_KEPT:
                continue
        else:
            run = 0
        out.append(frame)
    if len(out) > MAX_FRAMES:
        half = MAX_FRAMES // 2
        out = out[:half] + out[-half:]
    return out


def _same(a: dict, b: dict) -> bool:
    return (a["filename"], a["lineno"], a["name"]) == (b["filename"], b["lineno"], b["name"])


def failing_line(frames: list[dict], label: str) -> int | None:
    """The innermost line of the executed code itself."""
    for frame in reversed(frames):
        if frame["filename"] == label:
            return frame["lineno"]
    return None


def syntax_error_frames(err: SyntaxError, label: str) -> list[dict]:
    if err.filename != label or not err.lineno:
        return []
    source = err.text if isinstance(err.text, str) else ""
    return [frame_dict(label, err.lineno, "<module>", cut(source.strip(), 2000) or None)]


MAX_TEXT = 20_000  # characters of one message (or note, or source line) sent whole
HEAD = 16_000  # what a longer one keeps: its head and its tail
TAIL = 3_000


def cut(text: str, limit: int = MAX_TEXT) -> str:
    """``text``, or its head and tail with the size said in between when it is long."""
    if len(text) <= limit:
        return text
    head, tail = limit * HEAD // MAX_TEXT, limit * TAIL // MAX_TEXT
    return (f"{text[:head]}\n… [{len(text) - head - tail:,} characters cut: the text has "
            f"{len(text):,} in all] …\n{text[-tail:]}")


def safe_str(value: object, what: str = "exception", func=str) -> str:
    """``str(value)``, or what the traceback module prints when that raises."""
    try:
        result = func(value)
        if not isinstance(result, str):
            raise TypeError("not a str")
        return result
    except BaseException:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        return f"<{what} {func.__name__}() failed>"


def type_name(err: BaseException) -> str:
    """The exception class's own name (a metaclass cannot make this raise)."""
    try:
        name = type.__dict__["__name__"].__get__(type(err), type)
    except BaseException:  # noqa: BLE001
        name = None
    return cut(name, 200) if isinstance(name, str) and name else "Exception"


def exception_message(err: BaseException) -> str:
    """The message as the traceback module shows it: ``str(err)`` and the notes, each
    of which may fail (``<exception str() failed>``); long ones are cut."""
    if isinstance(err, SyntaxError):
        try:
            return cut(safe_str(err.msg or ""))
        except BaseException:  # noqa: BLE001
            return "<exception str() failed>"
    parts = [cut(safe_str(err)) + _did_you_mean(err)]
    try:
        notes = getattr(err, "__notes__", None)
    except BaseException as problem:  # noqa: BLE001
        notes = [f"Ignored error getting __notes__: {safe_str(problem, '__notes__', repr)}"]
    if notes is not None:
        if isinstance(notes, (list, tuple)):
            parts += [cut(safe_str(note, "note")) for note in notes[:100]]
        else:
            parts.append(cut(safe_str(notes, "__notes__", repr)))
    return cut("\n".join(parts), 2 * MAX_TEXT)


MAX_CANDIDATES = 5000  # names compared with a misspelt one (a module's dir() can be huge)


def name_suggestion(err: BaseException) -> str | None:
    """The defined name closest to a misspelt one (``prnt``: ``print``), for a NameError
    or AttributeError, as Python's own traceback says it in a terminal (the traceback
    module of 3.11 does not). None when nothing is close, or anything fails."""
    try:
        wrong = getattr(err, "name", None)
        if not isinstance(wrong, str) or not wrong:
            return None
        if isinstance(err, AttributeError):
            candidates = dir(err.obj)
        elif isinstance(err, NameError):
            tb = err.__traceback__
            if tb is None:
                return None
            while tb.tb_next is not None:
                tb = tb.tb_next
            frame = tb.tb_frame
            candidates = [*frame.f_locals, *frame.f_globals, *frame.f_builtins]
        else:
            return None
        if not wrong.startswith("_"):  # a public name was meant, not an internal one
            candidates = [c for c in candidates if isinstance(c, str) and not c.startswith("_")]
        close = difflib.get_close_matches(wrong, candidates[:MAX_CANDIDATES], n=1, cutoff=0.75)
        return close[0] if close and close[0] != wrong else None
    except BaseException:  # noqa: BLE001 - a suggestion must never cost the error itself
        return None


def _did_you_mean(err: BaseException) -> str:
    suggestion = name_suggestion(err)
    return f". Did you mean: '{suggestion}'?" if suggestion else ""


_FAULT_FRAME = re.compile(r'^\s*File "(?P<file>.*)", line (?P<line>\d+) in (?P<name>.*)$')


def crash_frames(text: str, labels: Collection[str]) -> list[tuple[str, int, str]]:
    """Learner frames of a faulthandler dump (most recent call first, as it prints)."""
    found = []
    for line in text.splitlines():
        match = _FAULT_FRAME.match(line)
        if match and match["file"] in labels:
            found.append((match["file"], int(match["line"]), match["name"].strip()))
    return found
