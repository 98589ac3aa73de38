"""Make captured output safe to show: decode, keep colours, defuse everything else.

Kept: text, "\\n", "\\r" (progress bars), "\\t", ANSI SGR colour sequences. Dropped:
other escape sequences (cursor moves, clears, titles). Escaped as visible ``\\xNN``:
other control characters and bytes that are not UTF-8.
"""

from __future__ import annotations

import codecs
import re

_SUSPECT = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
_TOKEN = re.compile(
    r"(\x1b\[[0-9;:]*m)"  # 1: SGR colour: keep
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # other CSI: drop
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC (titles, links): drop
    r"|\x1b[ -/]*[0-Z\\^-~]"  # other two-byte escapes: drop
    r"|([\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f])"  # 2: lone control: escape
)
_MAX_ESCAPE = 256  # an unfinished escape longer than this is not one


def _replace(match: re.Match) -> str:
    if match.group(1):
        return match.group(1)
    control = match.group(2)
    if control:
        return f"\\x{ord(control):02x}"
    return ""


def sanitize(text: str) -> str:
    """Sanitise a complete piece of text."""
    if not _SUSPECT.search(text):
        return text
    return _TOKEN.sub(_replace, text)


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
