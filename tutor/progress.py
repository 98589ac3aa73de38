"""The learner's progress: one JSON file, safe against crashes and against two tutors.

Pure (stdlib only; never imports textual, rich or torch). The API, used by the UI and
the CLI::

    store = ProgressStore.open()            # config.progress_path(); never raises for a bad file
    store.problem                           # None, or a sentence for the learner to read
    store.lesson("fundamentals")            # LessonProgress: a read-only snapshot
    store.mark_step_seen(lesson, step)      # every mutation is saved at once
    store.record_cell_run(lesson, cell, ok)
    store.record_quiz_attempt(lesson, quiz, answer, correct)
    store.record_exercise_attempt(lesson, exercise, passed)
    store.reveal_solution(lesson, exercise)
    store.save_code(lesson, cell, code)     # code=None: back to the lesson's code
    store.code_for(lesson, cell)            # the learner's edit, or None
    store.set_position(lesson, step); store.last_position()
    store.due_reviews(now=None); store.reviews()        # tutor.review.ReviewItem lists
    store.record_review(item, correct, answer=None); store.drop_review(item)
    store.lessons()                         # {lesson id: LessonProgress} with any progress
    store.reset(lesson_id=None); store.export(path); store.import_file(path)

    progress.score(lesson) -> Score(steps_seen, steps, quizzes_right, quizzes,
                                    exercises_passed, exercises); .fraction for a bar
    progress.quizzes[id] -> QuizRecord(attempts, correct); .exercises[id] -> ExerciseRecord

How it stays safe:
- Every mutation takes an advisory lock (``fcntl.flock`` on ``progress.json.lock``; where
  fcntl is missing, an exclusive-create lock file with stale-lock recovery), reads what
  is on disk, applies the change to THAT, and writes a temp file that is fsynced and
  renamed over the old one. Two tutors at once therefore lose nothing: each change is
  replayed on the latest file. If the lock cannot be had in ``LOCK_TIMEOUT`` seconds
  the change is still applied to a fresh read (a tiny race, never a hang).
- A write that fails (disk full, read-only folder) keeps the change in memory and
  retries it with the next one; ``problem`` says so.
- A file that is not JSON, or not a progress file, is moved aside to
  ``progress.json.corrupt-<time>`` and reported in ``problem``; entries that cannot be
  read are skipped after copying the original aside the same way. A file written by a
  newer tutor (higher ``schema_version``) is copied aside and left untouched: this
  session then keeps progress in memory only.

Review scheduling (``tutor.review``): a wrong quiz answer, or a solution revealed
before the exercise was passed, puts the item in Leitner box 1. A right answer or a pass
while the item is due counts as a review, as does ``record_review`` (the review screen).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tutor import review
from tutor.review import ReviewItem

try:  # POSIX; the fallback below covers the rest
    import fcntl
except ImportError:  # pragma: no cover - exercised by forcing the fallback in tests
    fcntl = None  # type: ignore[assignment]

SCHEMA_VERSION = 1
LOCK_TIMEOUT = 10.0
STALE_LOCK_AGE = 30.0  # seconds before an exclusive-create lock file is taken as abandoned
MAX_QUIZ_ATTEMPTS = 100  # per quiz; older attempts are dropped so the file stays small
_TEMP_PREFIX = ".progress-"

Op = Callable[[dict], None]


class ProgressFileError(Exception):
    """A progress file (for import) that cannot be used; the message says why."""


# -- snapshots -----------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    answer: str
    correct: bool
    time: float


@dataclass(frozen=True)
class QuizRecord:
    """All attempts at one quiz. ``correct``: the latest attempt was right."""

    attempts: tuple[Attempt, ...]
    correct: bool

    @property
    def first_try_correct(self) -> bool:
        return bool(self.attempts) and self.attempts[0].correct

    @property
    def last_answer(self) -> str | None:
        return self.attempts[-1].answer if self.attempts else None


@dataclass(frozen=True)
class ExerciseRecord:
    attempts: int
    passed: bool
    solution_revealed: bool
    needed_solution: bool = False  # revealed before the first pass


@dataclass(frozen=True)
class Score:
    """A lesson's progress in numbers, for lists and progress bars."""

    steps_seen: int
    steps: int
    quizzes_right: int
    quizzes: int
    exercises_passed: int
    exercises: int

    @property
    def fraction(self) -> float:
        """0..1: steps seen, quizzes right and exercises passed, each item counting once."""
        total = self.steps + self.quizzes + self.exercises
        done = self.steps_seen + self.quizzes_right + self.exercises_passed
        return done / total if total else 0.0


@dataclass(frozen=True)
class LessonProgress:
    """What the learner did in one lesson (a snapshot: it never changes)."""

    lesson_id: str
    steps_seen: frozenset[str]
    cells_run: frozenset[str]
    cells_failed: frozenset[str]  # cells whose latest run failed
    quizzes: dict[str, QuizRecord]
    exercises: dict[str, ExerciseRecord]
    code: dict[str, str]  # edited code by cell (or exercise) id
    position: str | None  # the step the learner was last at
    last_seen: float | None

    @property
    def started(self) -> bool:
        return self.last_seen is not None

    def quiz_score(self, quiz_ids: Iterable[str]) -> tuple[int, int]:
        """(right, total) over ``quiz_ids``: a quiz counts when its latest answer was right."""
        ids = list(quiz_ids)
        return sum(1 for q in ids if q in self.quizzes and self.quizzes[q].correct), len(ids)

    def exercise_score(self, exercise_ids: Iterable[str]) -> tuple[int, int]:
        """(passed, total) over ``exercise_ids``."""
        ids = list(exercise_ids)
        return sum(1 for e in ids if e in self.exercises and self.exercises[e].passed), len(ids)

    def steps_score(self, step_ids: Iterable[str]) -> tuple[int, int]:
        """(seen, total) over ``step_ids``."""
        ids = list(step_ids)
        return sum(1 for s in ids if s in self.steps_seen), len(ids)

    def score(self, lesson) -> Score:
        """This progress measured against ``lesson`` (a ``tutor.lessons.Lesson``)."""
        steps = self.steps_score(s.id for s in lesson.steps)
        quizzes = self.quiz_score(q.id for q in lesson.quizzes())
        exercises = self.exercise_score(e.id for e in lesson.exercises())
        return Score(*steps, *quizzes, *exercises)


# -- the document ----------------------------------------------------------------------
# {"schema_version": 1,
#  "position": {"lesson", "step", "time"} | null,
#  "lessons": {id: {"steps": {step: first_seen},
#                   "cells": {cell: {"runs", "ok", "time"}},
#                   "quizzes": {quiz: {"attempts": [{"answer", "correct", "time"}]}},
#                   "exercises": {ex: {"attempts", "passed_at", "revealed_at", "time"}},
#                   "code": {cell: {"code": str | null, "time"}},   null: reverted
#                   "position": {"step", "time"} | null}},
#  "reviews": {key: {"lesson", "kind", "item", "box", "due", "time"}}}

_SECTIONS = ("steps", "cells", "quizzes", "exercises", "code")


def empty_document() -> dict:
    return {"schema_version": SCHEMA_VERSION, "position": None, "lessons": {}, "reviews": {}}


def _empty_lesson() -> dict:
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
        lesson = _empty_lesson()
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


class _Unusable(Exception):
    """The bytes on disk are not a progress file we can read."""

    def __init__(self, reason: str, newer: bool = False):
        super().__init__(reason)
        self.newer = newer


def parse_document(data: bytes) -> tuple[dict, int]:
    """Bytes -> (clean current-schema document, entries dropped); raises _Unusable."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _Unusable(f"it is not valid JSON ({err.__class__.__name__}: {err})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("schema_version"), int) \
            or isinstance(raw.get("schema_version"), bool):
        raise _Unusable("it is not a tutor progress file (no schema_version)")
    version = raw["schema_version"]
    if version > SCHEMA_VERSION:
        raise _Unusable(f"it was written by a newer tutor (schema {version}; this one reads {SCHEMA_VERSION})",
                        newer=True)
    while version < SCHEMA_VERSION:
        if version not in MIGRATIONS:
            raise _Unusable(f"schema_version {version} is unknown")
        raw = MIGRATIONS[version](raw)
        version += 1
    return clean_document(raw)


def merge_documents(ours: dict, theirs: dict) -> dict:
    """Both documents' progress in one: unions, and the later entry where both have one."""
    out = copy.deepcopy(ours)
    for lesson_id, data in theirs["lessons"].items():
        mine = out["lessons"].setdefault(lesson_id, _empty_lesson())
        for step, seen in data["steps"].items():
            mine["steps"][step] = min(seen, mine["steps"].get(step, seen))
        for cell, run in data["cells"].items():
            old = mine["cells"].get(cell)
            newer = run if old is None or run["time"] >= old["time"] else old
            mine["cells"][cell] = {**newer, "runs": max(run["runs"], old["runs"] if old else 0)}
        for quiz, record in data["quizzes"].items():
            old = mine["quizzes"].get(quiz, {"attempts": []})["attempts"]
            seen_keys = {(a["time"], a["answer"], a["correct"]) for a in old}
            new = [a for a in record["attempts"] if (a["time"], a["answer"], a["correct"]) not in seen_keys]
            attempts = sorted(old + copy.deepcopy(new), key=lambda a: a["time"])[-MAX_QUIZ_ATTEMPTS:]
            mine["quizzes"][quiz] = {"attempts": attempts}
        for ex, record in data["exercises"].items():
            old = mine["exercises"].get(ex)
            if old is None:
                mine["exercises"][ex] = dict(record)
                continue
            mine["exercises"][ex] = {
                "attempts": max(old["attempts"], record["attempts"]),
                "passed_at": _earliest(old["passed_at"], record["passed_at"]),
                "revealed_at": _earliest(old["revealed_at"], record["revealed_at"]),
                "time": max(old["time"], record["time"]),
            }
        for cell, code in data["code"].items():
            if cell not in mine["code"] or code["time"] > mine["code"][cell]["time"]:
                mine["code"][cell] = dict(code)
        mine["position"] = _later(mine["position"], data["position"])
    out["position"] = _later(out["position"], theirs["position"])
    for key, entry in theirs["reviews"].items():
        old = out["reviews"].get(key)
        if old is None or entry["time"] > old["time"]:
            out["reviews"][key] = dict(entry)
    return out


def _earliest(a, b):
    return b if a is None else a if b is None else min(a, b)


def _later(a, b):
    if a is None or (b is not None and b["time"] > a["time"]):
        return copy.deepcopy(b)
    return a


def _snapshot(lesson_id: str, data: dict | None) -> LessonProgress:
    data = data or _empty_lesson()
    quizzes = {}
    for quiz_id, record in data["quizzes"].items():
        attempts = tuple(Attempt(a["answer"], a["correct"], a["time"]) for a in record["attempts"])
        quizzes[quiz_id] = QuizRecord(attempts, bool(attempts) and attempts[-1].correct)
    exercises = {
        ex_id: ExerciseRecord(
            attempts=r["attempts"],
            passed=r["passed_at"] is not None,
            solution_revealed=r["revealed_at"] is not None,
            needed_solution=r["revealed_at"] is not None
            and (r["passed_at"] is None or r["revealed_at"] < r["passed_at"]),
        )
        for ex_id, r in data["exercises"].items()
    }
    times = [*data["steps"].values(), *(c["time"] for c in data["cells"].values()),
             *(a.time for q in quizzes.values() for a in q.attempts),
             *(e["time"] for e in data["exercises"].values()), *(c["time"] for c in data["code"].values())]
    if data["position"]:
        times.append(data["position"]["time"])
    return LessonProgress(
        lesson_id=lesson_id,
        steps_seen=frozenset(data["steps"]),
        cells_run=frozenset(data["cells"]),
        cells_failed=frozenset(c for c, r in data["cells"].items() if not r["ok"]),
        quizzes=quizzes,
        exercises=exercises,
        code={c: r["code"] for c, r in data["code"].items() if r["code"] is not None},
        position=data["position"]["step"] if data["position"] else None,
        last_seen=max(times) if times else None,
    )


def _review_item(entry: dict) -> ReviewItem:
    return ReviewItem(entry["lesson"], entry["kind"], entry["item"], entry["box"], entry["due"])


def _review_entry(item: ReviewItem, now: float) -> dict:
    return {"lesson": item.lesson_id, "kind": item.kind, "item": item.item_id, "box": item.box,
            "due": item.due, "time": now}


# -- files -----------------------------------------------------------------------------


@contextlib.contextmanager
def file_lock(lock_path: Path, timeout: float | None = None) -> Iterator[bool]:
    """Hold an advisory lock on ``lock_path``; yields whether it was obtained in time
    (if not, the caller goes on unlocked rather than hang)."""
    deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
    with contextlib.suppress(OSError):
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    locker = _flock if fcntl is not None else _exclusive_file_lock
    with locker(lock_path, deadline) as locked:
        yield locked


@contextlib.contextmanager
def _flock(lock_path: Path, deadline: float) -> Iterator[bool]:
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield False
        return
    try:
        locked = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
            except OSError:  # a file system without flock
                break
        yield locked
    finally:
        os.close(fd)  # closing releases the flock


@contextlib.contextmanager
def _exclusive_file_lock(lock_path: Path, deadline: float) -> Iterator[bool]:
    """Where fcntl is missing: whoever creates ``<lock>.held`` holds the lock. One left
    by a killed process is taken over once it is older than STALE_LOCK_AGE."""
    held = lock_path.with_name(lock_path.name + ".held")
    locked = False
    while not locked:
        try:
            fd = os.open(held, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - held.stat().st_mtime > STALE_LOCK_AGE:
                    held.unlink()
                    continue
            if time.monotonic() > deadline:
                break
            time.sleep(0.005)
        except OSError:
            break
        else:
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            locked = True
    try:
        yield locked
    finally:
        if locked:
            with contextlib.suppress(OSError):
                held.unlink()


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` so that ``path`` holds either the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _backup_name(path: Path, tag: str, now: float) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    candidate = path.with_name(f"{path.name}.{tag}-{stamp}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{tag}-{stamp}-{n}")
        n += 1
    return candidate


def _dump(doc: dict) -> str:
    # Compact: without indent, json uses its C encoder (several times faster on big files).
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def _copy(doc: dict) -> dict:
    """A deep copy of a JSON document (a C-speed round trip, faster than copy.deepcopy)."""
    return json.loads(json.dumps(doc))


# -- the store -------------------------------------------------------------------------


class ProgressStore:
    """Progress kept in one JSON file; see the module docstring."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.problem: str | None = None
        self._clock = clock
        self._saved = empty_document()  # the document as last read from or written to disk
        self._doc = empty_document()  # what reads see: _saved plus the changes not yet saved
        self._saved_bytes: bytes | None = None  # the file's content that _saved was parsed from
        self._memory_only = False  # set when the file must not be written
        self._pending: list[Op] = []

    @classmethod
    def open(cls, path: Path | None = None, *, clock: Callable[[], float] = time.time) -> ProgressStore:
        """The store at ``path`` (default ``config.progress_path()``); never raises for a bad file."""
        if path is None:
            from tutor import config

            path = config.progress_path()
        store = cls(Path(path), clock=clock)
        store._remove_stale_temps()
        base = store._read_disk(on_corrupt=None)
        if base is not None:
            store._saved, store._doc = base, _copy(base)
        return store

    # -- reading ------------------------------------------------------------------

    def lesson(self, lesson_id: str) -> LessonProgress:
        """A snapshot of one lesson (empty when the learner has not started it)."""
        self._refresh()
        return _snapshot(lesson_id, self._doc["lessons"].get(lesson_id))

    def lessons(self) -> dict[str, LessonProgress]:
        """Snapshots of every lesson with any progress."""
        self._refresh()
        return {lid: _snapshot(lid, data) for lid, data in self._doc["lessons"].items()}

    def code_for(self, lesson_id: str, cell_id: str) -> str | None:
        """The learner's edited code of a cell, or None for the lesson's own code."""
        self._refresh()
        entry = self._doc["lessons"].get(lesson_id, {}).get("code", {}).get(cell_id)
        return entry["code"] if entry else None

    def last_position(self) -> tuple[str, str] | None:
        """(lesson id, step id) where the learner was last, for "continue"."""
        self._refresh()
        pos = self._doc["position"]
        return (pos["lesson"], pos["step"]) if pos else None

    def reviews(self) -> list[ReviewItem]:
        """Everything in the review schedule, soonest first."""
        self._refresh()
        return sorted((_review_item(e) for e in self._doc["reviews"].values()), key=lambda i: (i.due, i.key))

    def due_reviews(self, now: float | None = None) -> list[ReviewItem]:
        """Items due now (or at ``now``), the longest overdue first."""
        return review.due_items(self.reviews(), self._clock() if now is None else now)

    def document(self) -> dict:
        """A deep copy of the whole document (for export and tests)."""
        self._refresh()
        return _copy(self._doc)

    # -- mutations (each is saved at once) ------------------------------------------

    def mark_step_seen(self, lesson_id: str, step_id: str) -> None:
        now = self._clock()
        self._mutate(lambda doc: _lesson(doc, lesson_id)["steps"].setdefault(step_id, now))

    def record_cell_run(self, lesson_id: str, cell_id: str, ok: bool) -> None:
        now = self._clock()

        def op(doc: dict) -> None:
            cells = _lesson(doc, lesson_id)["cells"]
            runs = cells.get(cell_id, {"runs": 0})["runs"]
            cells[cell_id] = {"runs": runs + 1, "ok": bool(ok), "time": now}

        self._mutate(op)

    def record_quiz_attempt(self, lesson_id: str, quiz_id: str, answer: str, correct: bool) -> None:
        now = self._clock()

        def op(doc: dict) -> None:
            _add_attempt(doc, lesson_id, quiz_id, answer, correct, now)
            key = review.review_key(lesson_id, "quiz", quiz_id)
            if not correct:
                _schedule(doc, review.schedule_new(lesson_id, "quiz", quiz_id, now), now)
            elif key in doc["reviews"] and doc["reviews"][key]["due"] <= now:
                _answer_review(doc, key, True, now)

        self._mutate(op)

    def record_exercise_attempt(self, lesson_id: str, exercise_id: str, passed: bool) -> None:
        now = self._clock()

        def op(doc: dict) -> None:
            record = _exercise(doc, lesson_id, exercise_id, now)
            record["attempts"] += 1
            record["time"] = now
            if passed and record["passed_at"] is None:
                record["passed_at"] = now
            key = review.review_key(lesson_id, "exercise", exercise_id)
            if passed and key in doc["reviews"] and doc["reviews"][key]["due"] <= now:
                _answer_review(doc, key, True, now)

        self._mutate(op)

    def reveal_solution(self, lesson_id: str, exercise_id: str) -> None:
        """The learner looked at the solution. Before a pass, that puts it up for review."""
        now = self._clock()

        def op(doc: dict) -> None:
            record = _exercise(doc, lesson_id, exercise_id, now)
            if record["revealed_at"] is None:
                record["revealed_at"] = now
            record["time"] = now
            if record["passed_at"] is None:
                _schedule(doc, review.schedule_new(lesson_id, "exercise", exercise_id, now), now)

        self._mutate(op)

    def save_code(self, lesson_id: str, cell_id: str, code: str | None) -> None:
        """Keep the learner's edit of a cell; ``None`` goes back to the lesson's code."""
        now = self._clock()
        self._mutate(lambda doc: _lesson(doc, lesson_id)["code"].__setitem__(cell_id, {"code": code, "time": now}))

    def set_position(self, lesson_id: str, step_id: str) -> None:
        now = self._clock()

        def op(doc: dict) -> None:
            _lesson(doc, lesson_id)["position"] = {"step": step_id, "time": now}
            doc["position"] = {"lesson": lesson_id, "step": step_id, "time": now}

        self._mutate(op)

    def record_review(self, item: ReviewItem, correct: bool, answer: str | None = None) -> None:
        """A review answer: up a box when right, back to box 1 when wrong. With ``answer``
        (a quiz), the attempt is also kept with the quiz's others."""
        now = self._clock()

        def op(doc: dict) -> None:
            if answer is not None and item.kind == "quiz":
                _add_attempt(doc, item.lesson_id, item.item_id, answer, correct, now)
            if item.key not in doc["reviews"]:  # answered meanwhile in another tutor
                _schedule(doc, item, now)
            _answer_review(doc, item.key, correct, now)

        self._mutate(op)

    def drop_review(self, item: ReviewItem) -> None:
        """Take an item out of the schedule (e.g. its quiz is no longer in the lesson)."""
        self._mutate(lambda doc: doc["reviews"].pop(item.key, None))

    def reset(self, lesson_id: str | None = None) -> None:
        """Forget one lesson's progress (its reviews too), or everything."""

        def op(doc: dict) -> None:
            if lesson_id is None:
                doc.clear()
                doc.update(empty_document())
                return
            doc["lessons"].pop(lesson_id, None)
            doc["reviews"] = {k: v for k, v in doc["reviews"].items() if v["lesson"] != lesson_id}
            if doc["position"] and doc["position"]["lesson"] == lesson_id:
                doc["position"] = None

        self._mutate(op)

    # -- moving progress between machines -----------------------------------------------

    def export(self, path: Path) -> None:
        """Write the current progress to ``path`` (JSON, the same format)."""
        text = json.dumps(self.document(), indent=1, sort_keys=True, ensure_ascii=False)  # for people
        write_atomically(Path(path), text + "\n")

    def import_file(self, path: Path) -> int:
        """Merge the progress in ``path`` into this store; returns how many lessons it had.

        Raises ProgressFileError when the file cannot be used (nothing is changed then).
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise ProgressFileError(f"cannot read {path}: {err.strerror or err}") from None
        try:
            theirs, dropped = parse_document(data)
        except _Unusable as err:
            raise ProgressFileError(f"cannot import {path}: {err}") from None
        if dropped:
            raise ProgressFileError(f"cannot import {path}: {dropped} entr{'y is' if dropped == 1 else 'ies are'} "
                                    "not readable progress")

        def op(doc: dict) -> None:
            merged = merge_documents(doc, theirs)
            doc.clear()
            doc.update(merged)

        self._mutate(op)
        return len(theirs["lessons"])

    # -- internals --------------------------------------------------------------------

    def _mutate(self, op: Op) -> None:
        op(self._doc)  # memory first: reads see the change even if saving fails
        if self._memory_only:
            return
        self._pending.append(op)
        try:
            with file_lock(self.lock_path):
                base = self._read_disk(on_corrupt=self._saved)
                if base is None:  # the file must not be written
                    return
                base = _copy(base)
                for pending in self._pending:
                    pending(base)
                text = _dump(base)
                write_atomically(self.path, text)
        except OSError as err:
            self.problem = (f"cannot save progress to {self.path}: {err.strerror or err}. "
                            "It is kept in memory and saved with the next change that succeeds.")
            return
        self._pending.clear()
        self._saved, self._saved_bytes = base, text.encode("utf-8")
        self._doc = _copy(base)

    def _refresh(self) -> None:
        """Re-read the file when another tutor changed it."""
        if self._memory_only or self._pending:
            return
        before = self._saved
        base = self._read_disk(on_corrupt=before)
        if base is not None and base is not before:
            self._doc = _copy(base)

    def _read_disk(self, on_corrupt: dict | None) -> dict | None:
        """The document on disk (empty when there is none; ``_saved`` itself when the file
        is unchanged). A bad file is set aside and reported; then ``on_corrupt`` (or an
        empty document) is used instead. None when the file must not be touched
        (unreadable, or from a newer tutor). Updates ``_saved``."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = None
        except OSError as err:
            self._memory_only = True
            self.problem = (f"cannot read progress file {self.path}: {err.strerror or err}. "
                            "Progress of this session is kept in memory only.")
            return None
        if data is not None and data == self._saved_bytes:
            return self._saved
        if data is None:
            doc = empty_document()
        else:
            fallback = _copy(on_corrupt) if on_corrupt is not None else empty_document()
            try:
                doc, data = self._parse_or_set_aside(data, fallback)
            except OSError as err:
                self._memory_only = True
                self.problem = (f"progress file {self.path} is damaged and {err.strerror}. "
                                "Progress of this session is kept in memory only.")
                return None
            if doc is None:
                return None
        self._saved, self._saved_bytes = doc, data
        return doc

    def _parse_or_set_aside(self, data: bytes, fallback: dict) -> tuple[dict | None, bytes | None]:
        """(document, the bytes now on disk for it); sets a bad file aside."""
        try:
            doc, dropped = parse_document(data)
        except _Unusable as err:
            if err.newer:
                backup = self._set_aside("newer", move=False)
                self._memory_only = True
                self.problem = (f"progress file {self.path} cannot be used: {err}. It is left as it is "
                                f"(a copy is in {backup}); progress of this session is kept in memory only.")
                return None, None
            backup = self._set_aside("corrupt", move=True)
            kept = " with the progress this tutor had in memory" if fallback["lessons"] else ""
            self.problem = (f"progress file {self.path} was damaged: {err}. It was moved to {backup} "
                            f"and a new one started{kept}.")
            # What this tutor knew goes back on disk at once, so it is not lost.
            text = _dump(fallback)
            try:
                write_atomically(self.path, text)
            except OSError as err:
                raise OSError(err.errno, f"cannot be rewritten ({err.strerror or err})") from None
            return fallback, text.encode("utf-8")
        if dropped:
            backup = self._set_aside("corrupt", move=False)
            self.problem = (f"progress file {self.path} had {dropped} unreadable entr"
                            f"{'y' if dropped == 1 else 'ies'}, skipped; the original is kept in {backup}.")
        return doc, data

    def _set_aside(self, tag: str, move: bool) -> Path:
        backup = _backup_name(self.path, tag, time.time())
        try:
            if move:
                os.replace(self.path, backup)
            else:
                shutil.copy2(self.path, backup)
        except OSError as err:
            # Without a backup the file must not be overwritten.
            self._memory_only = True
            raise OSError(err.errno, f"cannot be backed up ({err.strerror or err})") from None
        return backup

    def _remove_stale_temps(self) -> None:
        """Temp files left by a tutor killed mid-write (older than a minute)."""
        with contextlib.suppress(OSError):
            for temp in self.path.parent.glob(f"{_TEMP_PREFIX}*.tmp"):
                with contextlib.suppress(OSError):
                    if time.time() - temp.stat().st_mtime > 60:
                        temp.unlink()


def _lesson(doc: dict, lesson_id: str) -> dict:
    return doc["lessons"].setdefault(lesson_id, _empty_lesson())


def _exercise(doc: dict, lesson_id: str, exercise_id: str, now: float) -> dict:
    return _lesson(doc, lesson_id)["exercises"].setdefault(
        exercise_id, {"attempts": 0, "passed_at": None, "revealed_at": None, "time": now})


def _add_attempt(doc: dict, lesson_id: str, quiz_id: str, answer: str, correct: bool, now: float) -> None:
    attempts = _lesson(doc, lesson_id)["quizzes"].setdefault(quiz_id, {"attempts": []})["attempts"]
    attempts.append({"answer": str(answer), "correct": bool(correct), "time": now})
    del attempts[:-MAX_QUIZ_ATTEMPTS]


def _schedule(doc: dict, item: ReviewItem, now: float) -> None:
    doc["reviews"][item.key] = _review_entry(item, now)


def _answer_review(doc: dict, key: str, correct: bool, now: float) -> None:
    item = review.after_answer(_review_item(doc["reviews"][key]), correct, now)
    if item is None:
        del doc["reviews"][key]
    else:
        _schedule(doc, item, now)
