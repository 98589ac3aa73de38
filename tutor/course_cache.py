"""The course as ``tutor`` starts with it: the parsed course from a JSON cache, so that
the app starts without parsing every lesson; on a first start (no cache yet, or a lesson
changed), an outline read cheaply for the home screen's first frame, with the full
parse (then cached) done after it, on a thread.

The cache is keyed by the tutor's version, the lesson parser's own files, and each lesson
file's name, size and modification time: any change parses again. It is plain JSON
(never pickle): a damaged or foreign cache file is ignored and rewritten.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from pathlib import Path

from tutor import __version__, config
from tutor.lessons import Catalog, load_catalog
from tutor.lessons import model as lesson_model
from tutor.lessons.outline import CourseOutline, read_outline
from tutor.progress.files import write_atomically

CACHE_FORMAT = 1
_CLASSES = {cls.__name__: cls for cls in (
    lesson_model.Prose, lesson_model.SetupCell, lesson_model.CodeCell, lesson_model.Hint, lesson_model.Exercise,
    lesson_model.Quiz, lesson_model.Step, lesson_model.Lesson, lesson_model.LessonError, lesson_model.ParseResult,
    Catalog)}


def encode(value):
    """Model objects -> JSON-able values, with tags for dataclasses, tuples and paths."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"@": type(value).__name__,
                **{f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"@t": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Path):
        return {"@p": str(value)}
    if isinstance(value, dict):
        return {"@d": [[encode(k), encode(v)] for k, v in value.items()]}
    return value


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "@t" in value:
            return tuple(decode(v) for v in value["@t"])
        if "@p" in value:
            return Path(value["@p"])
        if "@d" in value:
            return {decode(k): decode(v) for k, v in value["@d"]}
        cls = _CLASSES[value["@"]]
        return cls(**{k: decode(v) for k, v in value.items() if k != "@"})
    return value


def _fingerprint(root: Path) -> str:
    parts = [f"format {CACHE_FORMAT}", f"tutor {__version__}", str(root.resolve())]
    lessons_package = Path(lesson_model.__file__).parent
    for source in sorted(lessons_package.glob("*.py")):
        stat = source.stat()
        parts.append(f"{source.name} {stat.st_size} {stat.st_mtime_ns}")
    for path in sorted(root.glob("*.md")):
        stat = path.stat()
        parts.append(f"{path.name} {stat.st_size} {stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def cache_path(root: Path) -> Path:
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return config.home_dir() / "cache" / f"course-{digest}.json"


class Course:
    """A course for the app: ``now``, at once (the parsed course, or on a first start its
    outline), and ``parsed()``, the parsed course, made once (and cached) however many
    threads ask."""

    def __init__(self, root: Path, now: Catalog, fingerprint: str | None = None) -> None:
        self.root = root
        self.now = now
        self._fingerprint = fingerprint  # of the files the outline was read from; None: parsed
        self._parsed = None if isinstance(now, CourseOutline) else now
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        """Whether the parsed course is here (``parsed()`` returns at once)."""
        return self._parsed is not None

    def parsed(self) -> Catalog:
        """The parsed course: every lesson validated, the cache written. Parses on the
        first call; a caller on another thread meanwhile waits for that parse."""
        with self._lock:
            if self._parsed is None:
                self._parsed = load_catalog(self.root)
                _write(cache_path(self.root), {"fingerprint": self._fingerprint, "catalog": encode(self._parsed)})
            return self._parsed


def open_course(root: Path) -> Course:
    """The course in ``root``: from the cache when nothing changed since it was written,
    else its outline (``Course.parsed()`` parses it). Raises ``LessonNotFound`` for a
    missing folder."""
    if not root.is_dir():
        return Course(root, load_catalog(root))  # which says that the folder is missing
    fingerprint = _fingerprint(root)
    try:
        data = json.loads(cache_path(root).read_text(encoding="utf-8"))
        if data.get("fingerprint") == fingerprint:
            catalog = decode(data["catalog"])
            if isinstance(catalog, Catalog):
                return Course(root, catalog)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no cache yet, or one that cannot be used: parse and write it again
    return Course(root, read_outline(root), fingerprint)


def load_cached_catalog(root: Path) -> Catalog:
    """``load_catalog(root)``, from the cache when nothing changed since it was written.
    Raises what ``load_catalog`` raises (LessonNotFound for a missing folder)."""
    return open_course(root).parsed()


def _write(path: Path, data: dict) -> None:
    try:
        write_atomically(path, json.dumps(data), prefix=".course-")
    except (OSError, TypeError, ValueError):
        pass  # a read-only home: parse every time, nothing else changes
