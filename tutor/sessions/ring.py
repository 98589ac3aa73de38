"""What a session host remembers for the next app: a ring of frames, and each cell's
latest state. Stdlib only.

- ``Ring``: the encoded frames the host sent (or would have sent) to an app, each with
  a sequence number, bounded in bytes. An app that comes back with the last number it
  saw gets exactly what it missed, while the ring still holds it.
- ``CellRecord``: one request's state, bounded: the head and the tail of its output
  with the number of lines dropped between them, its ``live.log`` batches, the latest
  state of each plot and image grid, its failure and its end. When the ring no longer
  holds what an app missed, ``catch_up`` turns the record into the events that bring
  the app's view of the cell up to date, given what the app says it already saw
  (``Seen``), with an honest "N lines were dropped while you were away" in place of
  what is gone.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

from tutor.sandbox.events import (
    AdviceGiven, CellFailed, CellFinished, CellStarted, ImagesShown, MetricsLogged, OutputCapped, OutputStreamed,
    PlotUpdated,
)

DEFAULT_RING_BYTES = 16 * 2**20
HEAD_CHARS = 256 * 2**10
TAIL_CHARS = 256 * 2**10
MAX_METRIC_POINTS = 100_000
MAX_RECORDS = 64
MAX_ADVICE = 32  # per cell (the worker gives each kind at most once a run)


class Ring:
    """Encoded frames with sequence numbers 1, 2, ..., each with a ``kind`` (what the
    reader may want to skip); the oldest go first past ``max_bytes`` (the newest frame
    is always kept)."""

    def __init__(self, max_bytes: int = DEFAULT_RING_BYTES) -> None:
        self.max_bytes = max_bytes
        self.last_seq = 0
        self._frames: deque[tuple[int, bytes, str]] = deque()
        self._bytes = 0
        self.dropped_frames = 0

    def next_seq(self) -> int:
        return self.last_seq + 1

    def append(self, seq: int, data: bytes, kind: str = "") -> None:
        if seq != self.last_seq + 1:
            raise ValueError(f"sequence {seq} after {self.last_seq}")
        self.last_seq = seq
        self._frames.append((seq, data, kind))
        self._bytes += len(data)
        while self._bytes > self.max_bytes and len(self._frames) > 1:
            old = self._frames.popleft()
            self._bytes -= len(old[1])
            self.dropped_frames += 1

    @property
    def first_seq(self) -> int:
        """The oldest sequence number still held (last_seq + 1 when empty)."""
        return self._frames[0][0] if self._frames else self.last_seq + 1

    def holds_after(self, seq: int) -> bool:
        """Whether every frame after ``seq`` is still here."""
        return seq + 1 >= self.first_seq

    def after(self, seq: int, limit_bytes: int | None = None) -> list[tuple[int, bytes, str]]:
        """Frames ``(seq, data, kind)`` after ``seq`` (all, or about ``limit_bytes`` worth)."""
        if not self._frames or seq >= self.last_seq:
            return []
        start = max(seq + 1 - self._frames[0][0], 0)
        taken: list[tuple[int, bytes, str]] = []
        size = 0
        for index in range(start, len(self._frames)):
            item = self._frames[index]
            taken.append(item)
            size += len(item[1])
            if limit_bytes is not None and size >= limit_bytes:
                break
        return taken

    @property
    def size(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._frames)


@dataclass
class Seen:
    """How much of one cell an app has shown: characters and lines of output, log
    batches, and whether it saw the cap, the failure and the end."""

    chars: int = 0
    lines: int = 0
    batches: int = 0
    advice: int = 0
    started: bool = False
    capped: bool = False
    failed: bool = False
    finished: bool = False

    def take(self, event) -> None:
        if isinstance(event, OutputStreamed):
            self.chars += len(event.text)
            self.lines += event.text.count("\n")
        elif isinstance(event, MetricsLogged):
            self.batches += 1
        elif isinstance(event, AdviceGiven):
            self.advice += 1
        elif isinstance(event, CellStarted):
            self.started = True
        elif isinstance(event, OutputCapped):
            self.capped = True
        elif isinstance(event, CellFailed):
            self.failed = True
        elif isinstance(event, CellFinished):
            self.finished = True

    def as_list(self) -> list:
        return [self.chars, self.lines, self.batches, self.advice, self.started, self.capped, self.failed,
                self.finished]

    @classmethod
    def from_list(cls, value) -> "Seen":
        """From what an app sent; anything malformed counts as nothing seen."""
        if (isinstance(value, list) and len(value) == 8 and all(type(v) is int and v >= 0 for v in value[:4])
                and all(isinstance(v, bool) for v in value[4:])):
            return cls(*value)
        return cls()


@dataclass(frozen=True)
class Dropped:
    """Stands in a catch-up for output that is gone: ``lines`` lines, ``chars`` characters."""

    request_id: int
    lines: int
    chars: int


class CellOutput:
    """The head and the tail of one cell's output (stdout and stderr interleaved)."""

    def __init__(self, head_chars: int = HEAD_CHARS, tail_chars: int = TAIL_CHARS) -> None:
        self.head_limit, self.tail_limit = head_chars, tail_chars
        self.head: list[tuple[str, str]] = []
        self.head_chars = 0
        self.tail: deque[tuple[str, str, int]] = deque()  # (name, text, start position)
        self.tail_chars = 0
        self.total_chars = 0
        self.total_lines = 0
        self.tail_lines = 0

    def add(self, name: str, text: str) -> None:
        if not text:
            return
        if self.head_chars < self.head_limit and not self.tail:
            room = self.head_limit - self.head_chars
            part = text[:room]
            self.head.append((name, part))
            self.head_chars += len(part)
            self.total_chars += len(part)
            self.total_lines += part.count("\n")
            text = text[room:]
            if not text:
                return
        self.tail.append((name, text, self.total_chars))
        self.tail_chars += len(text)
        self.total_chars += len(text)
        lines = text.count("\n")
        self.total_lines += lines
        self.tail_lines += lines
        excess = self.tail_chars - self.tail_limit
        while excess > 0:  # drop from the front of the tail, cutting into a chunk if need be
            first_name, first, start = self.tail[0]
            cut = first[:excess]
            if len(cut) == len(first):
                self.tail.popleft()
            else:
                self.tail[0] = (first_name, first[excess:], start + excess)
            self.tail_chars -= len(cut)
            self.tail_lines -= cut.count("\n")
            excess -= len(cut)

    @property
    def tail_start(self) -> int:
        return self.tail[0][2] if self.tail else self.total_chars

    def since(self, chars: int, lines: int) -> tuple[list[tuple[str, str]], int, int, int]:
        """What an app that has shown ``chars`` characters (``lines`` lines) lacks:
        (chunks before the gap, dropped lines, dropped characters, chunks after)."""
        before: list[tuple[str, str]] = []
        position = 0
        for name, text in self.head:
            end = position + len(text)
            if end > chars:
                before.append((name, text[max(chars - position, 0):]))
            position = end
        dropped_chars = max(self.tail_start - max(chars, self.head_chars), 0)
        dropped_lines = 0
        if dropped_chars:
            lines_before_tail = self.total_lines - self.tail_lines
            head_lines = sum(text.count("\n") for _, text in self.head)
            dropped_lines = max(lines_before_tail - max(lines, head_lines), 0)
        after: list[tuple[str, str]] = []
        for name, text, start in self.tail:
            end = start + len(text)
            if end > chars:
                after.append((name, text[max(chars - start, 0):]))
        return before, dropped_lines, dropped_chars, after


@dataclass
class CellRecord:
    """Everything the host keeps of one request."""

    ref: str  # the app's name for the request (the key: a request has no id until it starts)
    label: str
    tag: dict
    started_at: float
    output: CellOutput = field(default_factory=CellOutput)
    batches: list[MetricsLogged] = field(default_factory=list)
    metric_points: int = 0
    advice: list[AdviceGiven] = field(default_factory=list)
    plots: dict = field(default_factory=OrderedDict)
    images: dict = field(default_factory=OrderedDict)
    started: CellStarted | None = None
    capped: OutputCapped | None = None
    failed: CellFailed | None = None
    finished: CellFinished | None = None
    last_seq: int = 0
    request_id: int = 0  # the sandbox's id, from the first event

    def take(self, event, seq: int) -> None:
        self.last_seq = seq
        self.request_id = getattr(event, "request_id", self.request_id)
        if isinstance(event, OutputStreamed):
            self.output.add(event.name, event.text)
        elif isinstance(event, MetricsLogged):
            if self.metric_points < MAX_METRIC_POINTS:
                self.batches.append(event)
                self.metric_points += len(event.points)
        elif isinstance(event, AdviceGiven):
            if len(self.advice) < MAX_ADVICE:
                self.advice.append(event)
        elif isinstance(event, PlotUpdated):
            self.plots[event.title] = event
        elif isinstance(event, ImagesShown):
            self.images[event.title] = event
        elif isinstance(event, CellStarted):
            self.started = event
        elif isinstance(event, OutputCapped):
            self.capped = event
        elif isinstance(event, CellFailed):
            self.failed = event
        elif isinstance(event, CellFinished):
            self.finished = event

    def catch_up(self, seen: Seen) -> list:
        """The events that bring an app's view of this cell (``seen``) up to date."""
        rid = self.request_id
        events: list = []
        if self.started is not None and not seen.started:
            events.append(self.started)
        before, lines, chars, after = self.output.since(seen.chars, seen.lines)
        events += [OutputStreamed(rid, name, text) for name, text in before if text]
        if chars:
            events.append(Dropped(rid, lines, chars))
        events += [OutputStreamed(rid, name, text) for name, text in after if text]
        if self.capped is not None and not seen.capped:
            events.append(self.capped)
        events += self.batches[seen.batches:]
        events += self.advice[seen.advice:]
        events += list(self.plots.values())
        events += list(self.images.values())
        if self.failed is not None and not seen.failed:
            events.append(self.failed)
        if self.finished is not None and not seen.finished:
            events.append(self.finished)
        return events


class CellBook:
    """The records of the latest ``limit`` requests by their ``ref``, oldest first."""

    def __init__(self, limit: int = MAX_RECORDS) -> None:
        self.limit = limit
        self._records: OrderedDict[str, CellRecord] = OrderedDict()

    def open(self, record: CellRecord) -> CellRecord:
        self._records[record.ref] = record
        while len(self._records) > self.limit:
            self._records.popitem(last=False)
        return record

    def get(self, ref: str) -> CellRecord | None:
        return self._records.get(ref)

    def changed_after(self, seq: int) -> list[CellRecord]:
        return [r for r in self._records.values() if r.last_seq > seq]

    def __iter__(self):
        return iter(list(self._records.values()))
