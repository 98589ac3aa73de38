"""The per-cell output cap: keep the head and the tail, count what is dropped."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class CapLimits:
    head_lines: int = 10_000
    head_bytes: int = 1 << 20
    tail_lines: int = 1_000
    tail_bytes: int = 128 << 10


@dataclass(frozen=True)
class CapResult:
    dropped_lines: int
    dropped_bytes: int
    tail: tuple[tuple[str, bytes], ...]


def _nth_newline_end(data: bytes, n: int, stop: int) -> int:
    """The index just after the n-th newline of data[:stop] (n >= 1), or -1."""
    pos = -1
    for _ in range(n):
        pos = data.find(b"\n", pos + 1, stop)
        if pos < 0:
            return -1
    return pos + 1


class OutputBudget:
    """Feed output chunks; ``take`` returns what to send now (the head), the rest goes
    to a bounded tail. ``finish`` says what was dropped and gives the tail."""

    def __init__(self, limits: CapLimits = CapLimits()) -> None:
        self.limits = limits
        self._lines = 0
        self._bytes = 0
        self.capped = False
        self._tail: deque[tuple[str, bytes]] = deque()
        self._tail_bytes = 0
        self._over_lines = 0
        self._over_bytes = 0

    def take(self, name: str, data: bytes) -> bytes:
        if self.capped:
            self._keep_tail(name, data)
            return b""
        room_bytes = self.limits.head_bytes - self._bytes
        room_lines = self.limits.head_lines - self._lines
        cut = min(len(data), room_bytes)
        newlines = data.count(b"\n", 0, cut)
        if newlines >= room_lines:
            cut = _nth_newline_end(data, room_lines, cut) if room_lines > 0 else 0
            newlines = room_lines
        head = data[:cut]
        self._bytes += len(head)
        self._lines += newlines
        if cut < len(data):
            self.capped = True
            self._keep_tail(name, data[cut:])
        return head

    def _keep_tail(self, name: str, data: bytes) -> None:
        self._over_bytes += len(data)
        self._over_lines += data.count(b"\n")
        if len(data) > self.limits.tail_bytes:
            data = data[-self.limits.tail_bytes:]
        self._tail.append((name, data))
        self._tail_bytes += len(data)
        while self._tail_bytes - len(self._tail[0][1]) >= self.limits.tail_bytes:
            self._tail_bytes -= len(self._tail.popleft()[1])

    def finish(self) -> CapResult | None:
        """None when nothing was dropped."""
        if not self.capped:
            return None
        kept: list[tuple[str, bytes]] = []
        bytes_left = self.limits.tail_bytes
        lines_left = self.limits.tail_lines
        for name, data in reversed(self._tail):
            if bytes_left <= 0:
                break
            data = data[-bytes_left:]
            newlines = data.count(b"\n")
            if newlines > lines_left:
                pos = len(data)
                for _ in range(lines_left + 1):
                    pos = data.rfind(b"\n", 0, pos)
                kept.append((name, data[pos + 1:]))
                break
            kept.append((name, data))
            bytes_left -= len(data)
            lines_left -= newlines
        kept.reverse()
        if kept and bytes_left <= 0:
            # cut by bytes in the middle of a line: start at the next full line
            name, first = kept[0]
            newline = first.find(b"\n")
            if 0 <= newline < len(first) - 1 or (newline >= 0 and len(kept) > 1):
                kept[0] = (name, first[newline + 1:])
        kept = [(n, d) for n, d in kept if d]
        kept_bytes = sum(len(d) for _, d in kept)
        kept_lines = sum(d.count(b"\n") for _, d in kept)
        return CapResult(
            dropped_lines=max(self._over_lines - kept_lines, 0),
            dropped_bytes=max(self._over_bytes - kept_bytes, 0),
            tail=tuple(kept),
        )
