"""Make text from the worker safe to show: decode, keep colours, defuse everything else.

One sanitiser for every string that comes from learner code (see tutor.sandbox.decode,
the one place where worker text enters the client):

- ``sanitize(text)``: for output streams. Kept: text, "\\n", "\\r" (progress bars),
  "\\t", ANSI SGR colour sequences. Dropped: other escape sequences (cursor moves,
  clears, titles, OSC 52 clipboard writes, DCS/APC/PM/SOS strings). Escaped as visible
  ``\\xNN``: other control characters (C0 and C1), lone surrogates (``\\udNNN``) and
  bytes that are not UTF-8.
- ``sanitize(text, colours=False)``: for every other field (messages, tracebacks,
  labels, titles, metric names): no escape sequence at all survives, SGR included,
  and "\\r" is escaped too. ``one_line=True`` also turns newlines and tabs into spaces
  (labels and names drawn on one row).
"""

from __future__ import annotations

import codecs
import re

_SUSPECT = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SUSPECT_PLAIN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_TOKEN = re.compile(
    r"(\x1b\[[0-9;:]*m)"  # 1: SGR colour: kept in streams
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # other CSI: drop
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC (titles, links, clipboard): drop
    r"|\x1b[P_^X][^\x1b]*\x1b\\"  # DCS, APC, PM, SOS strings: drop
    r"|\x1b[ -/]*[0-Z\\^-~]"  # other two-byte escapes: drop
    r"|([\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff])"  # 2: lone control: escape
)
_TOKEN_PLAIN = re.compile(_TOKEN.pattern.replace(r"\x0b-\x0c\x0e-\x1f", r"\x0b-\x1f"))
_MAX_ESCAPE = 256  # an unfinished escape longer than this is not one


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _keep_colours(match: re.Match) -> str:
    if match.group(1):
        return match.group(1)
    control = match.group(2)
    return _escape(control) if control else ""


def _drop_colours(match: re.Match) -> str:
    control = match.group(2)
    return _escape(control) if control else ""


def sanitize(text: str, *, colours: bool = True, one_line: bool = False) -> str:
    """Sanitise a complete piece of text (see the module docstring)."""
    if colours:
        if _SUSPECT.search(text):
            text = _TOKEN.sub(_keep_colours, text)
    elif _SUSPECT_PLAIN.search(text):
        text = _TOKEN_PLAIN.sub(_drop_colours, text)
    if one_line and ("\n" in text or "\t" in text):
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def _is_unfinished(text: str, escape: int) -> bool:
    match = _TOKEN.match(text, escape)
    return match is None or match.group(2) is not None


class StreamSanitizer:
    """Decode and sanitise one output stream chunk by chunk: a UTF-8 character or an
    escape sequence split between two chunks is held back until it is complete."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")
        self._held = ""

    def feed(self, data: bytes) -> str:
        text = self._held + self._decoder.decode(data)
        self._held = ""
        escape = text.rfind("\x1b", max(len(text) - _MAX_ESCAPE, 0))
        if escape >= 0 and _is_unfinished(text, escape):
            self._held = text[escape:]
            text = text[:escape]
        return sanitize(text)

    def flush(self) -> str:
        """The end of the stream: give back whatever was held, defused."""
        text = self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        return sanitize(text)


_SGR = re.compile(r"\x1b\[[0-9;:]*m")


def strip_colours(text: str) -> str:
    """Sanitised output without its colours (for a printer whose stdout is no terminal)."""
    return _SGR.sub("", text) if "\x1b" in text else text
