"""Learner frames: tracebacks in cell lines, never worker internals. Stdlib only."""

from __future__ import annotations

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
            frames.append(frame_dict(summary.filename, summary.lineno or 0, summary.name,
                                     (summary.line or "").strip() or None))
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
    return [frame_dict(label, err.lineno, "<module>", (err.text or "").strip() or None)]


def exception_message(err: BaseException) -> str:
    if isinstance(err, SyntaxError):
        return err.msg or ""
    text = str(err)
    notes = getattr(err, "__notes__", None)
    if notes:
        text = "\n".join([text, *map(str, notes)])
    return text


_FAULT_FRAME = re.compile(r'^\s*File "(?P<file>.*)", line (?P<line>\d+) in (?P<name>.*)$')


def crash_frames(text: str, labels: Collection[str]) -> list[tuple[str, int, str]]:
    """Learner frames of a faulthandler dump (most recent call first, as it prints)."""
    found = []
    for line in text.splitlines():
        match = _FAULT_FRAME.match(line)
        if match and match["file"] in labels:
            found.append((match["file"], int(match["line"]), match["name"].strip()))
    return found
