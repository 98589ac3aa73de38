"""The last outputs of each cell the learner ran, kept on disk for ``tutor export``.

    recorder = OutputRecorder()
    for event in run_events: recorder.add(event)      # sandbox events of one run
    OutputStore.for_lesson(lesson_id).save(cell_id, recorder.outputs())
    OutputStore.for_lesson(lesson_id).load_all()      # {cell id: [output, ...]}

The app uses an ``OutputKeeper``: it records each run and saves it when the run ends,
on a thread of its own (pictures are encoded and files written off the event loop).

Outputs are notebook outputs already (nbformat v4 dicts: ``stream``, ``error``,
``display_data`` with ``image/png`` or ``text/plain``), so the export copies them as
they are. A cell keeps at most ``CELL_LIMIT`` characters: long output keeps its head
and its tail, and pictures that do not fit are named instead.

Kept under the tutor's home (``outputs/LESSON/CELL.json``, beside the progress file),
not in the lesson's workspace: the workspace is the learner's to change (and lives on
the remote machine with ``--remote``), while the export runs here. Pure: stdlib, plus
Pillow for the pictures. Writing never raises; a file that cannot be read is skipped.
"""

from __future__ import annotations

import base64
import io
import json
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from json.encoder import encode_basestring_ascii
from pathlib import Path

from tutor import config
from tutor.charts import ChartBook
from tutor.progress import write_atomically
from tutor.sandbox.events import (AdviceGiven, CellFailed, ImagesShown, MetricsLogged, OutputCapped,
                                  OutputStreamed, PlotUpdated)

CELL_LIMIT = 200 * 1024  # characters of output kept per cell
TAIL = CELL_LIMIT // 4  # what is kept of the end once the limit is reached
SCHEMA = 1


class OutputRecorder:
    """One run's events -> notebook outputs, within ``limit`` characters."""

    def __init__(self, limit: int = CELL_LIMIT) -> None:
        self.limit = limit
        self._outputs: list[dict] = []  # a stream's "text" is TextPieces until outputs() joins it
        self._size = 0
        self._tail: dict[str, TextPieces] = {}  # stream name -> its last characters, once full
        self._beyond: dict[str, int] = {}  # stream name -> characters past the limit
        self._charts = ChartBook()
        self._pictures: dict[str | None, ImagesShown] = {}  # title -> its latest pictures
        self.advice: list[str] = []

    def add(self, event) -> None:
        if isinstance(event, OutputStreamed):
            self._stream(event.name, event.text)
        elif isinstance(event, OutputCapped):
            self._stream("stdout", f"\n… {event.dropped_lines} lines ({event.dropped_bytes} bytes) "
                                   "were not kept by the tutor …\n")
        elif isinstance(event, CellFailed):
            self._outputs.append(_error(event))  # always kept (the worker already cut long messages)
        elif isinstance(event, ImagesShown):
            self._pictures[event.title] = event  # encoded when the outputs are asked for
        elif isinstance(event, AdviceGiven):
            where = f"line {event.line}: " if event.line else ""
            self.advice.append(f"{where}{event.saw} {event.why} Fix: {event.fix}")
        elif isinstance(event, (MetricsLogged, PlotUpdated)):
            self._charts.add(event)

    def outputs(self) -> list[dict]:
        """The outputs so far, in order, with the charts and pictures at the end."""
        return [{**o, "text": o["text"].text()} if isinstance(o.get("text"), TextPieces) else o
                for o in self.pieces()]

    def pieces(self) -> list[dict]:
        """``outputs()`` with each stream's text left as :class:`TextPieces` (what
        :meth:`OutputStore.save` writes without ever joining it)."""
        outputs = [dict(o) for o in self._outputs]
        for name, tail in self._tail.items():
            dropped = self._beyond[name] - tail.size
            text = TextPieces(f"\n… {dropped} characters not kept …\n") if dropped else TextPieces()
            outputs.append({"output_type": "stream", "name": name, "text": text.extend(tail)})
        outputs.extend(self._picture(shown) for shown in self._pictures.values())
        for chart in self._charts.render():
            outputs.append(_text(chart))
        outputs.extend(_text(f"advice: {line}") for line in self.advice)
        return outputs

    # -- within the limit -----------------------------------------------------------

    def _stream(self, name: str, text: str) -> None:
        room = self.limit - self._size
        if room > 0 and not self._beyond:
            kept, text = text[:room], text[room:]
            self._size += len(kept)
            last = self._outputs[-1] if self._outputs else None
            if last is not None and last["output_type"] == "stream" and last["name"] == name:
                last["text"].add(kept)
            else:
                self._outputs.append({"output_type": "stream", "name": name, "text": TextPieces(kept)})
        if text:  # past the limit: count it, and keep only the end
            self._beyond[name] = self._beyond.get(name, 0) + len(text)
            self._tail.setdefault(name, TextPieces()).add(text, keep=TAIL)

    def _picture(self, shown: ImagesShown) -> dict:
        try:
            png = _grid_png(shown)
        except Exception:  # an odd picture must not lose the rest
            png = None
        description = _describe(shown)
        if png is not None and self._size + len(png) * 4 // 3 <= self.limit:
            return {"output_type": "display_data", "metadata": {},
                    "data": {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": description}}
        return _text(description + " (too large to keep)" if png else description)


class TextPieces:
    """Text kept as the pieces that came, never joined in the UI process: appending to
    one growing string copied it on every piece (a flood's 200 KiB, again and again),
    and so did the JSON of it when saved; the freed copies stayed in the process's
    memory. Small pieces are merged, so a print per line costs no object per line.
    ``add(text, keep=N)`` keeps only the last N characters."""

    MERGE = 4096  # a piece up to this size is merged with the one before

    def __init__(self, text: str = "") -> None:
        self._pieces: deque[str] = deque()
        self.size = 0
        self.add(text)

    def add(self, text: str, keep: int | None = None) -> None:
        if not text:
            return
        if keep is not None and len(text) > keep:
            text = text[-keep:]
        pieces = self._pieces
        if pieces and len(pieces[-1]) + len(text) <= self.MERGE:
            pieces[-1] += text
        else:
            pieces.append(text)
        self.size += len(text)
        if keep is not None and self.size > keep:
            while self.size - len(pieces[0]) >= keep:
                self.size -= len(pieces.popleft())
            excess = self.size - keep
            if excess > 0:
                pieces[0] = pieces[0][excess:]
                self.size = keep

    def extend(self, other: "TextPieces") -> "TextPieces":
        self._pieces.extend(other._pieces)
        self.size += other.size
        return self

    def __iter__(self):
        return iter(self._pieces)

    def text(self) -> str:
        return "".join(self._pieces)


def _json_pieces(value) -> Iterator[str]:
    """``json.dumps(value)`` in pieces of bounded size, each ``TextPieces`` written
    piece by piece (escaped as JSON escapes it: the pieces of a string concatenate)."""
    if isinstance(value, TextPieces):
        yield '"'
        for piece in value:
            for start in range(0, len(piece), _WRITE_PIECE):
                yield _escape(piece[start:start + _WRITE_PIECE])[1:-1]
        yield '"'
    elif isinstance(value, dict):
        yield "{"
        for n, (key, item) in enumerate(value.items()):
            yield f"{', ' if n else ''}{json.dumps(str(key))}: "
            yield from _json_pieces(item)
        yield "}"
    elif isinstance(value, (list, tuple)):
        yield "["
        for n, item in enumerate(value):
            if n:
                yield ", "
            yield from _json_pieces(item)
        yield "]"
    else:
        yield json.dumps(value)


_WRITE_PIECE = 16 * 1024
_escape = encode_basestring_ascii


def _text(text: str) -> dict:
    return {"output_type": "display_data", "metadata": {}, "data": {"text/plain": text}}


def _error(failure: CellFailed) -> dict:
    lines = ["Traceback (most recent call last):"] if failure.frames else []
    for frame in failure.frames:
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.source:
            lines.append(f"    {frame.source.strip()}")
    lines.append(f"{failure.ename}: {failure.message}" if failure.message else failure.ename)
    if failure.advice:
        lines += ["", failure.advice]
    return {"output_type": "error", "ename": failure.ename, "evalue": failure.message, "traceback": lines}


def _describe(shown: ImagesShown) -> str:
    labels = [i.label for i in shown.images if i.label]
    title = f"{shown.title}: " if shown.title else ""
    text = f"[{title}{len(shown.images)} image{'s' * (len(shown.images) != 1)}]"
    return text + (" " + ", ".join(labels[:32]) if labels else "")


def _grid_png(shown: ImagesShown) -> bytes | None:
    """The pictures of one ``live.images`` call as one PNG grid, small ones blown up."""
    from PIL import Image

    pictures = [i for i in shown.images if i.width > 0 and i.height > 0]
    if not pictures:
        return None
    width = max(i.width for i in pictures)
    height = max(i.height for i in pictures)
    scale = max(1, 64 // max(width, height))
    cols = max(1, min(shown.ncols, len(pictures)))
    rows = -(-len(pictures) // cols)
    gap = 2
    sheet = Image.new("RGB", (cols * (width * scale + gap) - gap, rows * (height * scale + gap) - gap), "white")
    for n, picture in enumerate(pictures):
        image = Image.frombytes(picture.mode, (picture.width, picture.height), picture.pixels).convert("RGB")
        if scale > 1:
            image = image.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
        row, col = divmod(n, cols)
        sheet.paste(image, (col * (width * scale + gap), row * (height * scale + gap)))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


class OutputStore:
    """One lesson's kept outputs: a JSON file per cell."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def for_lesson(cls, lesson_id: str) -> "OutputStore":
        return cls(config.home_dir() / "outputs" / lesson_id)

    def path(self, cell_id: str) -> Path:
        return self.root / f"{cell_id}.json"

    def save(self, cell_id: str, outputs: list[dict]) -> bool:
        """Keep ``outputs`` as the cell's last; False when it could not be written."""
        try:
            write_atomically(self.path(cell_id), _json_pieces({"schema": SCHEMA, "outputs": outputs}))
            return True
        except (OSError, ValueError):
            return False

    def load(self, cell_id: str) -> list[dict] | None:
        try:
            data = json.loads(self.path(cell_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        outputs = data.get("outputs") if isinstance(data, dict) and data.get("schema") == SCHEMA else None
        if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
            return None
        return outputs

    def load_all(self) -> dict[str, list[dict]]:
        found = {}
        try:
            paths = sorted(self.root.glob("*.json"))
        except OSError:
            return found
        for path in paths:
            outputs = self.load(path.stem)
            if outputs is not None:
                found[path.stem] = outputs
        return found

    def clear(self) -> None:
        for path in self.root.glob("*.json") if self.root.is_dir() else ():
            try:
                path.unlink()
            except OSError:
                pass


class OutputKeeper:
    """Keeps the app's runs: ``started``, ``add`` each event of the block's code,
    ``ended`` saves (on one background thread, in order); ``close`` waits for the last."""

    def __init__(self, store: OutputStore) -> None:
        self.store = store
        self._recorders: dict[str, OutputRecorder] = {}
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outputs")

    def started(self, block_id: str) -> None:
        self._recorders[block_id] = OutputRecorder()

    def add(self, block_id: str, event) -> None:
        recorder = self._recorders.get(block_id)
        if recorder is not None:
            recorder.add(event)

    def ended(self, block_id: str) -> None:
        recorder = self._recorders.pop(block_id, None)
        if recorder is not None:
            self._writer.submit(lambda: self.store.save(block_id, recorder.pieces()))

    def close(self) -> None:
        self._writer.shutdown(wait=True)
