"""Issue 15 part 1: no string from the worker reaches a screen raw.

Every event type is walked with hostile strings in every text field (the walker must
know every field type, so a new event kind cannot forget it); every frame kind is
decoded from hostile frames; and a fake worker that puts hostile text in every frame
it sends is run through the real client, whose cell and worker events must all come
out clean."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from enum import Enum
from pathlib import Path

import pytest
from sandbox_helpers import FAKE_WORKER, StateLog, run

from tutor.sandbox import decode, events
from tutor.sandbox.protocol import FrameReader, encode
from tutor.sandbox.sanitize import StreamSanitizer, sanitize, strip_colours

# The hostile pieces, one by one and all together.
PIECES = {
    "clear screen": "\x1b[2J",
    "alternate screen": "\x1b[?1049h",
    "title (BEL)": "\x1b]0;pwned\x07",
    "title (ST)": "\x1b]2;pwned\x1b\\",
    "clipboard": "\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07",
    "DCS": "\x1bP+q544e\x1b\\",
    "APC": "\x1b_payload\x1b\\",
    "C1 CSI": "\x9b2J",
    "C1 OSC": "\x9d0;title\x9c",
    "lone ESC": "\x1b",
    "ESC at the end": "text\x1b",
    "bell": "\x07",
    "backspace": "\x08",
    "carriage return": "a\rb",
    "lone surrogate": "\ud800",
    "colour": "\x1b[31mred\x1b[0m",
}
HOSTILE = "A" + "".join(PIECES.values()) + "Z"
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def assert_safe(text: str, where: str, *, stream: bool = False, line: bool = False) -> None:
    """No raw control character. Streams may keep SGR colours (and \\r); every other
    field keeps nothing; one-line fields keep no newline either."""
    rest = strip_colours(text) if stream else text
    allowed = "\n\t\r" if stream else ("" if line else "\n\t")
    bad = [c for c in RAW.findall(rest) if c not in allowed]
    assert not bad, f"{where}: raw {bad!r} in {text!r}"
    if line:
        assert "\n" not in text, f"{where}: a newline in a one-line field: {text!r}"


def walk(value, where: str, kind: str = "block"):
    """Every string in an event, with its kind; fails on a type it does not know."""
    if isinstance(value, str):
        yield value, where, kind
    elif value is None or isinstance(value, (bool, int, float, bytes, Enum)):
        return
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from walk(getattr(value, field.name), f"{where}.{field.name}",
                            field.metadata.get("text", "block"))
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            yield from walk(item, f"{where}[{i}]", kind)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from walk(key, f"{where} key", "line")
            yield from walk(item, f"{where}[{key!r}]", kind)
    else:
        raise AssertionError(f"{where}: a {type(value).__name__} that the sanitiser does not walk")


def assert_event_safe(event) -> None:
    for text, where, kind in walk(event, type(event).__name__):
        assert_safe(text, where, stream=kind == "stream", line=kind == "line")


# -- building every event type with hostile text ------------------------------------------

EVENT_TYPES = [cls for _, cls in inspect.getmembers(events, inspect.isclass)
               if dataclasses.is_dataclass(cls) and cls.__module__ == events.__name__]


def hostile_value(annotation, where: str):
    """A value of ``annotation`` with HOSTILE in every string; fails on unknown types."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is str:
        return HOSTILE
    if annotation in (int, float):
        return annotation(1)
    if annotation is bool:
        return True
    if annotation is bytes:
        return b"\x1b[2J"  # pixels: bytes are never text
    if annotation is type(None):
        return None
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", typing.Union)):
        real = [a for a in args if a is not type(None)]
        return hostile_value(real[0], where)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return (hostile_value(args[0], where), hostile_value(args[0], where))
        return tuple(hostile_value(a, where) for a in args)
    if origin is dict:
        return {hostile_value(args[0], where): hostile_value(args[1], where)}
    if inspect.isclass(annotation) and issubclass(annotation, Enum):
        return next(iter(annotation))
    if inspect.isclass(annotation) and dataclasses.is_dataclass(annotation):
        return build(annotation)
    raise AssertionError(f"{where}: a field of type {annotation!r} that the hostile walk does not know: "
                         "teach tutor.sandbox.decode.clean and this test about it")


def build(cls):
    hints = typing.get_type_hints(cls)
    return cls(**{f.name: hostile_value(hints[f.name], f"{cls.__name__}.{f.name}") for f in dataclasses.fields(cls)})


def test_there_are_event_types_to_walk():
    names = {cls.__name__ for cls in EVENT_TYPES}
    assert {"CellFailed", "OutputStreamed", "PlotUpdated", "ImagesShown", "MetricsLogged", "CellFinished",
            "WorkerStateChanged", "WorkerInfo"} <= names


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda cls: cls.__name__)
def test_every_text_field_of_every_event_type_is_sanitised(cls):
    raw = build(cls)
    texts = list(walk(raw, cls.__name__))
    if cls.__name__ not in ("CellStarted", "OutputCapped", "ResourcesMeasured"):
        assert texts, f"{cls.__name__} has text fields: the hostile build should reach them"
    assert any(RAW.search(text) for text, _, _ in texts) or not texts  # the build really is hostile
    assert_event_safe(decode.clean(raw))


def test_the_walker_refuses_a_field_type_it_does_not_know():
    @dataclasses.dataclass(frozen=True)
    class NewEvent:
        payload: object

    with pytest.raises(TypeError, match="does not know"):
        decode.clean(NewEvent(object()))
    assert decode.clean(NewEvent("\x1b[2Jx")).payload == "x"


def test_cleaning_twice_changes_nothing_more():
    once = decode.clean(build(events.CellFailed))
    assert decode.clean(once) == once


@pytest.mark.parametrize("name", PIECES)
def test_each_piece_alone(name):
    piece = PIECES[name]
    assert_safe(sanitize(piece), name, stream=True)
    assert_safe(sanitize(piece, colours=False), name)
    assert_safe(sanitize(piece, colours=False, one_line=True), name, line=True)
    assert "\x1b" not in sanitize(piece, colours=False)


def test_colours_survive_only_in_streams():
    assert sanitize("\x1b[31mred\x1b[0m") == "\x1b[31mred\x1b[0m"
    assert sanitize("\x1b[31mred\x1b[0m", colours=False) == "red"
    assert strip_colours("\x1b[1;32mok\x1b[0m\n") == "ok\n"


def test_the_clipboard_payload_is_gone_not_just_defused():
    out = sanitize("x\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07y", colours=False)
    assert out == "xy"


# -- frames -> events ---------------------------------------------------------------------

def hostile_frames(request_id: int = 1) -> list[tuple[dict, bytes]]:
    frames = [({"t": "out", "id": request_id, "name": "stdout"}, bytes([b]))
              for b in HOSTILE.encode("utf-8", "surrogatepass")]
    frames += [
        ({"t": "out", "id": request_id, "name": HOSTILE}, HOSTILE.encode("utf-8", "surrogatepass")),
        ({"t": "capped", "id": request_id, "lines": 3, "bytes": 9}, b""),
        ({"t": "metrics", "id": request_id, "points": [[1, {HOSTILE: 1.0}]]}, b""),
        ({"t": "plot", "id": request_id, "kind": HOSTILE, "title": HOSTILE, "series": [[HOSTILE, [0], [1]]]}, b""),
        ({"t": "images", "id": request_id, "title": HOSTILE, "ncols": 1, "images": [[1, 1, "L", HOSTILE]]},
         b"\x1b"),
        ({"t": "advice", "id": request_id, "kind": HOSTILE, "line": 3, "saw": HOSTILE, "why": HOSTILE,
          "fix": HOSTILE}, b""),
        ({"t": "failed", "id": request_id, "ename": HOSTILE, "message": HOSTILE, "advice": HOSTILE, "line": 1,
          "frames": [{"filename": HOSTILE, "lineno": 1, "name": HOSTILE, "source": HOSTILE}]}, b""),
    ]
    return frames


def test_every_frame_kind_decodes_to_safe_events():
    decoder = decode.CellDecoder(1)
    seen = set()
    out = []
    for message, blob in hostile_frames():
        # through the real framing too (a surrogate travels as a JSON escape)
        (message, blob), = FrameReader().feed(encode(message, blob))
        for event in decoder.decode(message["t"], message, blob):
            out.append(event)
            seen.add(type(event).__name__)
    out += decoder.flush()
    assert {"OutputStreamed", "OutputCapped", "MetricsLogged", "PlotUpdated", "ImagesShown", "AdviceGiven",
            "CellFailed"} <= seen
    assert set(decode.CellDecoder.KINDS) == {"out", "capped", "metrics", "plot", "images", "advice", "failed"}
    for event in out:
        assert_event_safe(event)
        assert_event_safe(decode.clean(event))


def test_split_sequences_are_held_until_whole():
    stream = StreamSanitizer()
    text = "".join(stream.feed(bytes([b])) for b in b"a\x1b]52;c;eHg=\x07b\x1b[2Jc\x1b[32mg\x1b[0m")
    text += stream.flush()
    assert text == "abc\x1b[32mg\x1b[0m"


def test_worker_info_is_read_safely():
    info, note = decode.worker_info({"device": HOSTILE, "device_name": HOSTILE, "torch_version": HOSTILE,
                                     "note": HOSTILE, "gpu_total": "lots"}, 5)
    assert_event_safe(info)
    assert_safe(note, "note")
    assert info.gpu_total is None and info.pid == 5


def test_malformed_frames_are_protocol_errors():
    from tutor.sandbox.protocol import ProtocolError

    decoder = decode.CellDecoder(1)
    for message in ({"t": "metrics", "points": 3}, {"t": "plot", "series": [[1]]}, {"t": "advice"},
                    {"t": "images", "images": [[10, 10, "L", None]]}, {"t": "failed", "frames": []}):
        with pytest.raises(ProtocolError):
            decoder.decode(message["t"], message, b"")


# -- the one place: the client's exits -------------------------------------------------------

def test_the_client_hands_out_events_in_one_place_each():
    """Cell events leave through _Request.deliver or execute's yields, worker events
    through _emit; each of those cleans. A new path that skips them fails here."""
    source = (Path(decode.__file__).parent / "client.py").read_text()
    assert source.count("queue.put_nowait(") == 1
    assert "self.queue.put_nowait(decode.clean(event))" in source
    for line in source.splitlines():
        if re.search(r"\byield\b", line):
            assert "yield decode.clean(" in line or "yield event" in line, line
        if "self.on_event(" in line:
            assert "self.on_event(decode.clean(event))" in line, line


# -- end to end: a fake worker that is hostile everywhere -------------------------------------

async def test_a_hostile_worker_through_the_real_client(make_client):
    log = StateLog()
    client = await make_client(on_event=log, worker_command=FAKE_WORKER, env={"FAKE_WORKER_MODE": "hostile"})
    await client.ready.wait()
    cell = await run(client, "anything")
    kinds = {type(e).__name__ for e in cell.events}
    assert {"OutputStreamed", "MetricsLogged", "PlotUpdated", "ImagesShown", "AdviceGiven", "CellFailed",
            "CellFinished"} <= kinds
    for event in cell.events + log.events:
        assert_event_safe(event)
    assert_safe(client.reason or "", "client.reason")
    assert cell.stdout.startswith("A") and cell.stdout.endswith("Z")
    assert client.info.device_name.startswith("A") and "\\x9b" in client.info.device_name
    assert cell.status == "error" and cell.finished.threads and client.state.value == "ready"
