"""Sandbox events <-> link frames. Stdlib only.

An event travels as ``{"k": class name, "f": fields}`` with its ``bytes`` fields (image
pixels) moved into the frame's blob as ``[offset, length]``. Decoding trusts nothing:
every field is checked against the dataclass's type hints, the event then passes the
sandbox's one sanitiser, ``decode.clean`` (a hostile host cannot write escape
sequences to our terminal),
and anything that does not fit raises ``BadEvent``, which ends that link. The event
classes are found in ``tutor.sandbox.events`` (and ``register``), so a new event kind
travels without a change here.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from functools import lru_cache

from tutor.sandbox import events as sandbox_events
from tutor.sandbox.decode import clean
from tutor.sandbox.sanitize import sanitize


class BadEvent(ValueError):
    """An event frame that does not describe a known event."""


_TYPES: dict[str, type] = {}


def register(cls: type) -> type:
    """Let ``cls`` (a frozen dataclass) travel over links; returns it (a decorator)."""
    _TYPES[cls.__name__] = cls
    return cls


for _cls in vars(sandbox_events).values():
    if isinstance(_cls, type) and dataclasses.is_dataclass(_cls) and _cls.__module__ == sandbox_events.__name__:
        register(_cls)


def known_types() -> dict[str, type]:
    return dict(_TYPES)


# -- out ------------------------------------------------------------------------------


def encode_event(event) -> tuple[dict, bytes]:
    """(JSON-able description, blob) of a registered event."""
    if type(event).__name__ not in _TYPES:
        raise TypeError(f"{type(event).__name__} is not an event that travels")
    blob = bytearray()

    def plain(value):
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, (bytes, bytearray, memoryview)):
            start = len(blob)
            blob.extend(value)
            return [start, len(value)]
        if isinstance(value, (tuple, list)):
            return [plain(item) for item in value]
        if isinstance(value, dict):
            return {str(key): plain(item) for key, item in value.items()}
        return value

    return {"k": type(event).__name__, "f": plain(event)}, bytes(blob)


# -- in -------------------------------------------------------------------------------


def decode_event(description, blob: bytes = b""):
    """The event a description (and blob) stands for; BadEvent if it stands for none."""
    if not isinstance(description, dict):
        raise BadEvent("an event that is not a mapping")
    kind = description.get("k")
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise BadEvent(f"an unknown kind of event ({sanitize(str(kind))[:40]})")
    return clean(_build(cls, description.get("f"), blob, kind))


@lru_cache(maxsize=None)
def _hints(cls: type) -> tuple[tuple[str, object], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _build(cls: type, value, blob: bytes, where: str):
    if not isinstance(value, dict):
        raise BadEvent(f"{where}: not a mapping")
    kwargs = {}
    for name, hint in _hints(cls):
        if name not in value:
            raise BadEvent(f"{where}: {name} is missing")
        kwargs[name] = _value(hint, value[name], blob, f"{where}.{name}")
    return cls(**kwargs)


def _value(hint, value, blob: bytes, where: str):
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        for option in args:
            try:
                return _value(option, value, blob, where)
            except BadEvent:
                continue
        raise BadEvent(f"{where}: none of the allowed types")
    if hint is type(None):
        if value is not None:
            raise BadEvent(f"{where}: should be empty")
        return None
    if origin is tuple:
        if not isinstance(value, list):
            raise BadEvent(f"{where}: not a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], item, blob, where) for item in value)
        if len(value) != len(args):
            raise BadEvent(f"{where}: {len(value)} items, not {len(args)}")
        return tuple(_value(arg, item, blob, where) for arg, item in zip(args, value))
    if origin is dict:
        if not isinstance(value, dict):
            raise BadEvent(f"{where}: not a mapping")
        key_hint, item_hint = args
        return {_value(key_hint, key, blob, where): _value(item_hint, item, blob, where)
                for key, item in value.items()}
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _build(hint, value, blob, where)
        if issubclass(hint, enum.Enum):
            try:
                return hint(value)
            except ValueError:
                raise BadEvent(f"{where}: not a {hint.__name__}") from None
        if hint is bytes:
            if (not isinstance(value, list) or len(value) != 2 or not all(type(v) is int for v in value)
                    or value[0] < 0 or value[1] < 0 or value[0] + value[1] > len(blob)):
                raise BadEvent(f"{where}: a blob slice out of range")
            return blob[value[0]:value[0] + value[1]]
        if hint is str:
            if not isinstance(value, str):
                raise BadEvent(f"{where}: not text")
            return value  # sanitised with the whole event (decode.clean), by its field's kind
        if hint is bool:
            if not isinstance(value, bool):
                raise BadEvent(f"{where}: not true or false")
            return value
        if hint is int:
            if type(value) is not int:
                raise BadEvent(f"{where}: not a whole number")
            return value
        if hint is float:
            if type(value) not in (int, float):
                raise BadEvent(f"{where}: not a number")
            return float(value)
    raise BadEvent(f"{where}: a field of a type that cannot travel ({hint})")
