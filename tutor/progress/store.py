"""The progress store: one JSON file, safe against crashes and against two tutors
(see the package's docstring for how)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from tutor import review
from tutor.progress.document import (
    MAX_QUIZ_ATTEMPTS,
    UnusableFile,
    copy_document,
    dump,
    empty_document,
    empty_lesson,
    parse_document,
    review_entry,
    review_item,
)
from tutor.progress.files import TEMP_PREFIX, backup_name, file_lock, write_atomically
from tutor.progress.merge import merge_documents
from tutor.progress.records import LessonProgress, lesson_snapshot
from tutor.review import ReviewItem

Op = Callable[[dict], None]


class ProgressFileError(Exception):
    """A progress file (for import) that cannot be used; the message says why."""


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
            store._saved, store._doc = base, copy_document(base)
        return store

    # -- reading ------------------------------------------------------------------

    def lesson(self, lesson_id: str) -> LessonProgress:
        """A snapshot of one lesson (empty when the learner has not started it)."""
        self._refresh()
        return lesson_snapshot(lesson_id, self._doc["lessons"].get(lesson_id))

    def lessons(self) -> dict[str, LessonProgress]:
        """Snapshots of every lesson with any progress."""
        self._refresh()
        return {lid: lesson_snapshot(lid, data) for lid, data in self._doc["lessons"].items()}

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
        return sorted((review_item(e) for e in self._doc["reviews"].values()), key=lambda i: (i.due, i.key))

    def due_reviews(self, now: float | None = None) -> list[ReviewItem]:
        """Items due now (or at ``now``), the longest overdue first."""
        return review.due_items(self.reviews(), self._clock() if now is None else now)

    def document(self) -> dict:
        """A deep copy of the whole document (for export and tests)."""
        self._refresh()
        return copy_document(self._doc)

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
        except UnusableFile as err:
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
                base = copy_document(base)
                for pending in self._pending:
                    pending(base)
                text = dump(base)
                write_atomically(self.path, text)
        except OSError as err:
            self.problem = (f"cannot save progress to {self.path}: {err.strerror or err}. "
                            "It is kept in memory and saved with the next change that succeeds.")
            return
        self._pending.clear()
        self._saved, self._saved_bytes = base, text.encode("utf-8")
        self._doc = copy_document(base)

    def _refresh(self) -> None:
        """Re-read the file when another tutor changed it."""
        if self._memory_only or self._pending:
            return
        before = self._saved
        base = self._read_disk(on_corrupt=before)
        if base is not None and base is not before:
            self._doc = copy_document(base)

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
            fallback = copy_document(on_corrupt) if on_corrupt is not None else empty_document()
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
        except UnusableFile as err:
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
            text = dump(fallback)
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
        backup = backup_name(self.path, tag, time.time())
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
            for temp in self.path.parent.glob(f"{TEMP_PREFIX}*.tmp"):
                with contextlib.suppress(OSError):
                    if time.time() - temp.stat().st_mtime > 60:
                        temp.unlink()


def _lesson(doc: dict, lesson_id: str) -> dict:
    return doc["lessons"].setdefault(lesson_id, empty_lesson())


def _exercise(doc: dict, lesson_id: str, exercise_id: str, now: float) -> dict:
    return _lesson(doc, lesson_id)["exercises"].setdefault(
        exercise_id, {"attempts": 0, "passed_at": None, "revealed_at": None, "time": now})


def _add_attempt(doc: dict, lesson_id: str, quiz_id: str, answer: str, correct: bool, now: float) -> None:
    attempts = _lesson(doc, lesson_id)["quizzes"].setdefault(quiz_id, {"attempts": []})["attempts"]
    attempts.append({"answer": str(answer), "correct": bool(correct), "time": now})
    del attempts[:-MAX_QUIZ_ATTEMPTS]


def _schedule(doc: dict, item: ReviewItem, now: float) -> None:
    doc["reviews"][item.key] = review_entry(item, now)


def _answer_review(doc: dict, key: str, correct: bool, now: float) -> None:
    item = review.after_answer(review_item(doc["reviews"][key]), correct, now)
    if item is None:
        del doc["reviews"][key]
    else:
        _schedule(doc, item, now)
