"""The progress document: its schema, cleaning what cannot be read, migrations, and
turning bytes into a document (or saying why not).

    {"schema_version": 1,
     "position": {"lesson", "step", "time"} | null,
     "lessons": {id: {"steps": {step: first_seen},
                      "cells": {cell: {"runs", "ok", "time"}},
                      "quizzes": {quiz: {"attempts": [{"answer", "correct", "time"}]}},
                      "exercises": {ex: {"attempts", "passed_at", "revealed_at", "time"}},
                      "code": {cell: {"code": str | null, "time"}},   null: reverted
                      "position": {"step", "time"} | null}},
     "reviews": {key: {"lesson", "kind", "item", "box", "due", "time"}}}
"""

from __future__ import annotations

import json
from collections.abc import Callable

from tutor import review
from tutor.review import ReviewItem

SCHEMA_VERSION = 1
MAX_QUIZ_ATTEMPTS = 100  # per quiz; older attempts are dropped so the file stays small

_SECTIONS = ("steps", "cells", "quizzes", "exercises", "code")


def empty_document() -> dict:
    return {"schema_version": SCHEMA_VERSION, "position": None, "lessons": {}, "reviews": {}}


def empty_lesson() -> dict:
    return {**{name: {} for name in _SECTIONS}, "position": None}


def _is_time(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _clean_step(v):
    return float(v) if _is_time(v) else None


def _clean_cell(v):
    if isinstance(v, dict) and isinstance(v.get("runs"), int) and isinstance(v.get("ok"), bool) \
            and _is_time(v.get("time")):
        return {"runs": v["runs"], "ok": v["ok"], "time": float(v["time"])}
    return None


def _clean_attempt(v):
    if isinstance(v, dict) and isinstance(v.get("answer"), str) and isinstance(v.get("correct"), bool) \
            and _is_time(v.get("time")):
        return {"answer": v["answer"], "correct": v["correct"], "time": float(v["time"])}
    return None


def _clean_quiz(v):
    if not isinstance(v, dict) or not isinstance(v.get("attempts"), list):
        return None
    attempts = [_clean_attempt(a) for a in v["attempts"]]
    return None if None in attempts else {"attempts": attempts}


def _optional_time(v):
    return v is None or _is_time(v)


def _clean_exercise(v):
    if isinstance(v, dict) and isinstance(v.get("attempts"), int) and _optional_time(v.get("passed_at")) \
            and _optional_time(v.get("revealed_at")) and _is_time(v.get("time")):
        return {k: v.get(k) for k in ("attempts", "passed_at", "revealed_at", "time")}
    return None


def _clean_code(v):
    if isinstance(v, dict) and (v.get("code") is None or isinstance(v.get("code"), str)) and _is_time(v.get("time")):
        return {"code": v.get("code"), "time": float(v["time"])}
    return None


def _clean_position(v, keys: tuple[str, ...]):
    if isinstance(v, dict) and all(isinstance(v.get(k), str) for k in keys) and _is_time(v.get("time")):
        return {**{k: v[k] for k in keys}, "time": float(v["time"])}
    return None


def _clean_review(v):
    if isinstance(v, dict) and all(isinstance(v.get(k), str) for k in ("lesson", "kind", "item")) \
            and v["kind"] in review.KINDS and isinstance(v.get("box"), int) and _is_time(v.get("due")) \
            and _is_time(v.get("time")):
        return {k: v[k] for k in ("lesson", "kind", "item", "box", "due", "time")}
    return None


_CLEANERS = {"steps": _clean_step, "cells": _clean_cell, "quizzes": _clean_quiz,
             "exercises": _clean_exercise, "code": _clean_code}


def _clean_map(value, cleaner) -> tuple[dict, int]:
    if not isinstance(value, dict):
        return {}, 0 if value is None else 1
    out, dropped = {}, 0
    for key, entry in value.items():
        entry = cleaner(entry)
        if entry is None:
            dropped += 1
        else:
            out[key] = entry
    return out, dropped


def clean_document(raw: dict) -> tuple[dict, int]:
    """A schema-1 document with every unreadable entry dropped, and how many were."""
    doc = empty_document()
    dropped = 0
    lessons = raw.get("lessons")
    if lessons is not None and not isinstance(lessons, dict):
        lessons, dropped = {}, 1
    for lesson_id, data in (lessons or {}).items():
        if not isinstance(data, dict):
            dropped += 1
            continue
        lesson = empty_lesson()
        for name, cleaner in _CLEANERS.items():
            lesson[name], bad = _clean_map(data.get(name), cleaner)
            dropped += bad
        if data.get("position") is not None:
            lesson["position"] = _clean_position(data["position"], ("step",))
            dropped += lesson["position"] is None
        doc["lessons"][lesson_id] = lesson
    if raw.get("position") is not None:
        doc["position"] = _clean_position(raw["position"], ("lesson", "step"))
        dropped += doc["position"] is None
    doc["reviews"], bad = _clean_map(raw.get("reviews"), _clean_review)
    return doc, dropped + bad


# Older schema versions -> the next one. None exist yet; add `N: migrate_N_to_N1` here.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}


class UnusableFile(Exception):
    """The bytes on disk are not a progress file we can read."""

    def __init__(self, reason: str, newer: bool = False):
        super().__init__(reason)
        self.newer = newer


def parse_document(data: bytes) -> tuple[dict, int]:
    """Bytes -> (clean current-schema document, entries dropped); raises UnusableFile."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise UnusableFile(f"it is not valid JSON ({err.__class__.__name__}: {err})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("schema_version"), int) \
            or isinstance(raw.get("schema_version"), bool):
        raise UnusableFile("it is not a tutor progress file (no schema_version)")
    version = raw["schema_version"]
    if version > SCHEMA_VERSION:
        raise UnusableFile(f"it was written by a newer tutor (schema {version}; this one reads {SCHEMA_VERSION})",
                        newer=True)
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise UnusableFile(f"schema_version {version} is unknown")
        raw = MIGRATIONS[version](raw)
        version += 1
    return clean_document(raw)


def review_item(entry: dict) -> ReviewItem:
    return ReviewItem(entry["lesson"], entry["kind"], entry["item"], entry["box"], entry["due"])


def review_entry(item: ReviewItem, now: float) -> dict:
    return {"lesson": item.lesson_id, "kind": item.kind, "item": item.item_id, "box": item.box,
            "due": item.due, "time": now}


def dump(doc: dict) -> str:
    # Compact: without indent, json uses its C encoder (several times faster on big files).
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def copy_document(doc: dict) -> dict:
    """A deep copy of a JSON document (a C-speed round trip, faster than copy.deepcopy)."""
    return json.loads(json.dumps(doc))
