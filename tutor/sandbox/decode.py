"""Frames from the worker become events: the one place where worker text enters the client.

Two layers, so that a new event kind cannot forget to sanitise:

- ``CellDecoder`` turns one request's frames (``out``, ``capped``, ``metrics``,
  ``plot``, ``images``, ``advice``, ``failed``) into cell events, and ``worker_info`` reads the
  ``ready`` frame. A frame that does not have the expected shape raises
  ``ProtocolError`` (the worker is broken: the client restarts it).
- ``clean(event)`` walks every field of any event (nested dataclasses, tuples, dict
  keys and values) and passes every string through ``tutor.sandbox.sanitize``: output
  streams keep their colours (``metadata={"text": "stream"}`` on the field), every
  other string loses every escape sequence, and one-line fields (``"line"``) lose
  their newlines too. The client calls it on every event it hands out, so even a
  string that the client itself built from worker text (a crash log tail) is covered.
  A value of a type it does not know raises TypeError: a new kind of field must be
  taught here first.
"""

from __future__ import annotations

import dataclasses
from enum import Enum

from tutor.sandbox.events import (
    AdviceGiven, CellFailed, Frame, Image, ImagesShown, MetricsLogged, OutputCapped, OutputStreamed, PlotUpdated, Series,
    WorkerInfo,
)
from tutor.sandbox.protocol import ProtocolError
from tutor.sandbox.sanitize import StreamSanitizer, sanitize

STREAMS = ("stdout", "stderr")


def text(value, *, one_line: bool = False) -> str | None:
    """A string field of a frame, sanitised (None stays None; anything else is shown as text)."""
    if value is None:
        return None
    return sanitize(value if isinstance(value, str) else str(value), colours=False, one_line=one_line)


def clean(value, kind: str = "block"):
    """``value`` with every string in it sanitised (see the module docstring)."""
    if isinstance(value, str):
        if kind == "stream":
            return sanitize(value)
        return sanitize(value, colours=False, one_line=kind == "line")
    if value is None or isinstance(value, (bool, int, float, bytes, Enum)):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for field in dataclasses.fields(value):
            old = getattr(value, field.name)
            new = clean(old, field.metadata.get("text", "block"))
            if new is not old:
                changes[field.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple):
        items = tuple(clean(item, kind) for item in value)
        return value if all(a is b for a, b in zip(items, value)) else items
    if isinstance(value, dict):
        # keys are names (metrics): one line each
        return {clean(key, "line"): clean(item, kind) for key, item in value.items()}
    raise TypeError(f"tutor.sandbox.decode.clean does not know how to sanitise a {type(value).__name__}")


def worker_info(info: dict, pid: int) -> tuple[WorkerInfo, str | None]:
    """The ``ready`` frame's info (``pid`` as the client sees the worker), and its note."""
    if not isinstance(info, dict):
        raise ProtocolError("the ready message has no info")
    total = info.get("gpu_total")
    return (WorkerInfo(pid=pid, torch_version=text(info.get("torch_version"), one_line=True),
                       device=text(info.get("device"), one_line=True) or "cpu",
                       device_name=text(info.get("device_name"), one_line=True) or "",
                       gpu_total=int(total) if isinstance(total, (int, float)) else None),
            text(info.get("note")))


class CellDecoder:
    """One request's frames -> cell events. Output streams are decoded incrementally (a
    UTF-8 character or an escape sequence split between frames is held back)."""

    def __init__(self, request_id: int) -> None:
        self.request_id = request_id
        self._streams: dict[str, StreamSanitizer] = {}

    KINDS = ("out", "capped", "metrics", "plot", "images", "advice", "failed")

    def decode(self, kind: str, message: dict, blob: bytes) -> list:
        if kind not in self.KINDS:
            return []  # a frame kind this version does not show
        try:
            return getattr(self, f"_{kind}")(message, blob)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:
            raise ProtocolError(f"a malformed {kind!r} message ({type(err).__name__}: {err})") from None

    def flush(self) -> list[OutputStreamed]:
        """The end of the request's output: whatever was held back, defused."""
        events = []
        for name, stream in self._streams.items():
            rest = stream.flush()
            if rest:
                events.append(OutputStreamed(self.request_id, name, rest))
        return events

    # -- one method per frame kind ------------------------------------------------------

    def _out(self, message: dict, blob: bytes) -> list:
        name = message.get("name")
        name = name if name in STREAMS else "stdout"
        stream = self._streams.setdefault(name, StreamSanitizer())
        chunk = stream.feed(blob)
        return [OutputStreamed(self.request_id, name, chunk)] if chunk else []

    def _capped(self, message: dict, blob: bytes) -> list:
        return [*self.flush(), OutputCapped(self.request_id, int(message["lines"]), int(message["bytes"]))]

    def _metrics(self, message: dict, blob: bytes) -> list:
        points = tuple((None if step is None else float(step),
                        {text(name, one_line=True): float(value) for name, value in values.items()})
                       for step, values in message["points"])
        return [MetricsLogged(self.request_id, points)]

    def _plot(self, message: dict, blob: bytes) -> list:
        series = tuple(Series(text(label, one_line=True), tuple(map(float, xs)), tuple(map(float, ys)))
                       for label, xs, ys in message["series"])
        return [PlotUpdated(self.request_id, text(message["kind"], one_line=True),
                            text(message.get("title"), one_line=True), series)]

    def _images(self, message: dict, blob: bytes) -> list:
        images, offset = [], 0
        for width, height, mode, label in message["images"]:
            width, height = int(width), int(height)
            mode = "L" if mode == "L" else "RGB"
            size = width * height * (1 if mode == "L" else 3)
            if width < 0 or height < 0 or offset + size > len(blob):
                raise ValueError("the pixels do not match the sizes")
            images.append(Image(width, height, mode, blob[offset:offset + size], text(label, one_line=True)))
            offset += size
        return [ImagesShown(self.request_id, text(message.get("title"), one_line=True), tuple(images),
                            int(message.get("ncols") or 8))]

    def _advice(self, message: dict, blob: bytes) -> list:
        line = message.get("line")
        return [AdviceGiven(self.request_id, text(message["kind"], one_line=True) or "",
                            line if isinstance(line, int) and line > 0 else None,
                            text(message["saw"], one_line=True) or "", text(message.get("why")) or "",
                            text(message.get("fix")) or "")]

    def _failed(self, message: dict, blob: bytes) -> list:
        frames = tuple(Frame(text(f["filename"], one_line=True), int(f["lineno"]), text(f["name"], one_line=True),
                             text(f.get("source"), one_line=True))
                       for f in message["frames"])
        line = message.get("line")
        return [*self.flush(),
                CellFailed(self.request_id, text(message["ename"], one_line=True) or "Exception",
                           text(message["message"]) or "", frames, text(message.get("advice")),
                           int(line) if isinstance(line, int) else None)]
