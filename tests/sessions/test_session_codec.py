"""Events over the link: every event kind travels; on the way in every string is
sanitised and every field checked, so a hostile host can neither paint our terminal
nor crash the app."""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing

import pytest

from tutor.sandbox import events
from tutor.sessions.codec import BadEvent, decode_event, encode_event, known_types

HOSTILE = "ok\x1b[2J\x1b[?1049h\x1b]0;owned\x07\x1b]52;c;aGk=\x07\x1bP1;2q\x1b\\\x9b31m\x1b"


def sample(hint, text: str):
    """A value of type ``hint`` with ``text`` in every string."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return sample(next(a for a in args if a is not type(None)), text)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return (sample(args[0], text), sample(args[0], text))
        return tuple(sample(a, text) for a in args)
    if origin is dict:
        return {sample(args[0], text): sample(args[1], text)}
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return hint(**{f.name: sample(hints[f.name], text) for f in dataclasses.fields(hint)})
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return list(hint)[-1]
    return {str: text, int: 7, float: 2.5, bool: True, bytes: b"\x00\xffpixels"}[hint]


def strings(value):
    if isinstance(value, enum.Enum):
        return
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from strings(getattr(value, f.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)


EVENT_KINDS = sorted(known_types())


def test_every_event_of_the_sandbox_travels():
    sandbox_kinds = {name for name, cls in vars(events).items()
                     if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == events.__name__}
    assert sandbox_kinds <= set(EVENT_KINDS)


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_each_kind_round_trips_through_json(kind):
    event = sample(known_types()[kind], "plain text")
    description, blob = encode_event(event)
    assert decode_event(json.loads(json.dumps(description)), blob) == event


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_hostile_strings_in_every_field_come_out_defused(kind):
    event = sample(known_types()[kind], HOSTILE)
    description, blob = encode_event(event)
    decoded = decode_event(json.loads(json.dumps(description)), blob)
    texts = list(strings(decoded))
    if any(isinstance(v, str) for v in strings(event)):
        assert texts, "the strings went missing"
    for text in texts:
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, repr(text)
        assert text.startswith("ok")


@pytest.mark.parametrize("description, blob, why", [
    ("not a mapping", b"", "not a mapping"),
    ({"k": "Nope", "f": {}}, b"", "unknown kind"),
    ({"k": "CellStarted", "f": {}}, b"", "request_id is missing"),
    ({"k": "CellStarted", "f": {"request_id": "1"}}, b"", "not a whole number"),
    ({"k": "CellStarted", "f": {"request_id": True}}, b"", "not a whole number"),
    ({"k": "OutputStreamed", "f": {"request_id": 1, "name": "stdout", "text": ["x"]}}, b"", "not text"),
    ({"k": "WorkerStateChanged", "f": {"state": "exploded", "reason": None, "info": None}}, b"", "not a WorkerState"),
    ({"k": "ImagesShown", "f": {"request_id": 1, "title": None, "ncols": 8,
                                "images": [{"width": 1, "height": 1, "mode": "L", "label": None,
                                            "pixels": [0, 10**9]}]}}, b"abc", "none of|out of range"),
    ({"k": "MetricsLogged", "f": {"request_id": 1, "chart": "", "points": [[1.0, {"loss": "high"}]]}}, b"", "number"),
])
def test_malformed_events_are_refused(description, blob, why):
    with pytest.raises(BadEvent, match=why):
        decode_event(description, blob)


def test_nan_and_infinity_survive_for_charts():
    event = events.MetricsLogged(1, ((1.0, {"loss": float("nan")}), (2.0, {"loss": float("inf")})))
    description, blob = encode_event(event)
    back = decode_event(json.loads(json.dumps(description)), blob)
    assert back.points[1][1]["loss"] == float("inf") and back.points[0][1]["loss"] != back.points[0][1]["loss"]
