"""The progress store: what it keeps, reviews, and that it never loses or hides data."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tutor.progress import SCHEMA_VERSION, ProgressFileError, ProgressStore, document, files
from tutor.progress import store as store_module
from tutor.review import DAY


class Clock:
    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "progress.json"


@pytest.fixture
def store(path, clock) -> ProgressStore:
    return ProgressStore.open(path, clock=clock)


def on_disk(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# -- what it keeps ---------------------------------------------------------------------


def test_default_path_follows_tutor_home(tutor_home):
    store = ProgressStore.open()
    store.mark_step_seen("l", "s")
    assert (tutor_home / "progress.json").is_file()


def test_a_missing_file_is_an_empty_store(store, path):
    assert store.problem is None
    assert not store.lesson("fundamentals").started
    assert store.last_position() is None and store.due_reviews() == []
    assert not path.exists()  # nothing written until something happens


def test_every_change_is_on_disk_at_once(store, path, clock):
    store.mark_step_seen("l", "intro")
    assert on_disk(path)["schema_version"] == SCHEMA_VERSION
    store.record_cell_run("l", "c1", ok=True)
    store.record_cell_run("l", "c2", ok=False)
    store.record_quiz_attempt("l", "q1", "(3, 2)", correct=False)
    clock.advance(5)
    store.record_quiz_attempt("l", "q1", "(2, 3)", correct=True)
    store.record_exercise_attempt("l", "e1", passed=False)
    store.record_exercise_attempt("l", "e1", passed=True)
    store.save_code("l", "c1", "x = 2\n")
    store.set_position("l", "intro")

    lesson = ProgressStore.open(path, clock=clock).lesson("l")  # a fresh reader
    assert lesson.steps_seen == {"intro"}
    assert lesson.cells_run == {"c1", "c2"} and lesson.cells_failed == {"c2"}
    record = lesson.quizzes["q1"]
    assert [(a.answer, a.correct) for a in record.attempts] == [("(3, 2)", False), ("(2, 3)", True)]
    assert record.correct and not record.attempts[0].correct and record.last_answer == "(2, 3)"
    assert record.attempts[1].time == record.attempts[0].time + 5
    assert lesson.exercises["e1"].attempts == 2 and lesson.exercises["e1"].passed
    assert not lesson.exercises["e1"].solution_revealed
    assert lesson.code == {"c1": "x = 2\n"} and lesson.position == "intro"
    assert lesson.last_seen == clock.now


def test_scores(store):
    store.mark_step_seen("l", "a")
    store.record_quiz_attempt("l", "q1", "x", correct=True)
    store.record_quiz_attempt("l", "q2", "x", correct=False)
    store.record_exercise_attempt("l", "e1", passed=True)
    lesson = store.lesson("l")
    assert lesson.steps_score(["a", "b", "c"]) == (1, 3)
    assert lesson.quiz_score(["q1", "q2", "q3"]) == (1, 3)
    assert lesson.exercise_score(["e1", "e2"]) == (1, 2)


def test_quiz_correct_means_the_latest_attempt(store):
    store.record_quiz_attempt("l", "q", "a", correct=True)
    store.record_quiz_attempt("l", "q", "b", correct=False)
    assert not store.lesson("l").quizzes["q"].correct


def test_edited_code_and_going_back_to_the_lessons_code(store, path, clock):
    store.save_code("l", "c1", "print(1)")
    assert store.code_for("l", "c1") == "print(1)"
    store.save_code("l", "c1", None)
    assert store.code_for("l", "c1") is None
    assert ProgressStore.open(path, clock=clock).code_for("l", "c1") is None
    assert store.code_for("nope", "c1") is None


def test_last_position_is_the_latest_lesson(store, clock):
    store.set_position("a", "s1")
    clock.advance(1)
    store.set_position("b", "s2")
    assert store.last_position() == ("b", "s2")
    assert store.lesson("a").position == "s1"


def test_solution_revealed(store):
    store.record_exercise_attempt("l", "e", passed=False)
    store.reveal_solution("l", "e")
    record = store.lesson("l").exercises["e"]
    assert record.solution_revealed and record.needed_solution and not record.passed


def test_quiz_attempts_are_capped(store):
    for i in range(document.MAX_QUIZ_ATTEMPTS + 5):
        store.record_quiz_attempt("l", "q", str(i), correct=False)
    attempts = store.lesson("l").quizzes["q"].attempts
    assert len(attempts) == document.MAX_QUIZ_ATTEMPTS and attempts[-1].answer == str(document.MAX_QUIZ_ATTEMPTS + 4)


def test_reset_one_lesson_or_everything(store, path, clock):
    store.record_quiz_attempt("a", "q", "x", correct=False)
    store.mark_step_seen("b", "s")
    store.set_position("a", "s")
    store.reset("a")
    assert not store.lesson("a").started and store.lesson("b").started
    assert store.due_reviews(clock.now + 2 * DAY) == [] and store.last_position() is None
    store.reset()
    assert not ProgressStore.open(path).lesson("b").started


# -- reviews ---------------------------------------------------------------------------


def test_a_wrong_quiz_comes_back_a_day_later(store, clock):
    store.record_quiz_attempt("l", "q", "x", correct=False)
    store.record_quiz_attempt("l", "q", "y", correct=True)  # a retry is not a review
    assert store.due_reviews() == []
    assert store.due_reviews(clock.now + DAY - 1) == []
    [item] = store.due_reviews(clock.now + DAY)
    assert (item.lesson_id, item.kind, item.item_id, item.box) == ("l", "quiz", "q", 1)


def test_right_reviews_climb_the_boxes_then_retire(store, clock):
    store.record_quiz_attempt("l", "q", "x", correct=False)
    for box, wait in ((2, 1), (3, 3), (4, 7)):
        clock.advance(wait * DAY)
        [item] = store.due_reviews()
        store.record_review(item, correct=True, answer="y")
        [scheduled] = store.reviews()
        assert scheduled.box == box
    clock.advance(21 * DAY)
    [item] = store.due_reviews()
    store.record_review(item, correct=True)
    assert store.reviews() == []
    assert len(store.lesson("l").quizzes["q"].attempts) == 4  # 1 in the lesson + 3 reviews with answers


def test_a_wrong_review_goes_back_to_box_one(store, clock):
    store.record_quiz_attempt("l", "q", "x", correct=False)
    clock.advance(DAY)
    store.record_review(store.due_reviews()[0], correct=True)
    clock.advance(3 * DAY)
    store.record_review(store.due_reviews()[0], correct=False, answer="z")
    [item] = store.reviews()
    assert item.box == 1 and item.due == clock.now + DAY
    assert store.lesson("l").quizzes["q"].last_answer == "z"


def test_answering_a_due_quiz_in_the_lesson_counts_as_a_review(store, clock):
    store.record_quiz_attempt("l", "q", "x", correct=False)
    clock.advance(DAY)
    store.record_quiz_attempt("l", "q", "y", correct=True)
    assert store.reviews()[0].box == 2


def test_a_solution_needed_comes_back_and_a_pass_when_due_counts(store, clock):
    store.reveal_solution("l", "e")
    [item] = store.reviews()
    assert (item.kind, item.item_id) == ("exercise", "e")
    store.record_exercise_attempt("l", "e", passed=True)  # copying the solution now: not due yet
    assert store.reviews()[0].box == 1
    clock.advance(DAY)
    store.record_exercise_attempt("l", "e", passed=True)
    assert store.reviews()[0].box == 2


def test_a_solution_shown_after_a_pass_is_not_reviewed(store):
    store.record_exercise_attempt("l", "e", passed=True)
    store.reveal_solution("l", "e")
    assert store.reviews() == []
    assert not store.lesson("l").exercises["e"].needed_solution


def test_due_reviews_longest_overdue_first_and_drop(store, clock):
    store.record_quiz_attempt("l", "q1", "x", correct=False)
    clock.advance(60)
    store.record_quiz_attempt("l", "q2", "x", correct=False)
    clock.advance(2 * DAY)
    assert [i.item_id for i in store.due_reviews()] == ["q1", "q2"]
    store.drop_review(store.due_reviews()[0])
    assert [i.item_id for i in store.due_reviews()] == ["q2"]


# -- bad files: backed up, reported, never silently overwritten -------------------------


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe\x00", b"[1, 2]", b'{"lessons": {}}',
                                     b'{"schema_version": "1"}'])
def test_a_corrupt_file_is_moved_aside_and_reported(path, clock, content):
    path.write_bytes(content)
    store = ProgressStore.open(path, clock=clock)
    assert store.problem and "damaged" in store.problem
    backups = list(path.parent.glob("progress.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_bytes() == content
    assert str(backups[0]) in store.problem
    store.mark_step_seen("l", "s")
    assert on_disk(path)["lessons"]["l"]["steps"] == {"s": clock.now}


def test_a_file_damaged_while_open_keeps_what_this_tutor_knew(store, path):
    store.mark_step_seen("l", "s1")
    path.write_text("garbage")
    store.mark_step_seen("l", "s2")
    assert "damaged" in store.problem
    assert set(on_disk(path)["lessons"]["l"]["steps"]) == {"s1", "s2"}
    assert [p.read_text() for p in path.parent.glob("progress.json.corrupt-*")] == ["garbage"]


def test_a_file_damaged_and_only_read_is_rewritten_from_memory(store, path):
    store.mark_step_seen("l", "s1")
    path.write_text("garbage")
    assert store.lesson("l").steps_seen == {"s1"}
    assert "damaged" in store.problem
    assert set(on_disk(path)["lessons"]["l"]["steps"]) == {"s1"}


def test_unreadable_entries_are_skipped_and_the_original_kept(path, clock):
    doc = {"schema_version": 1, "position": None, "reviews": {"bad": {"kind": "quiz"}},
           "lessons": {"l": {"steps": {"ok": 5.0, "bad": "yesterday"}, "cells": {}, "quizzes": {},
                             "exercises": {}, "code": {}, "position": None},
                       "m": "not a lesson"}}
    original = json.dumps(doc)
    path.write_text(original)
    store = ProgressStore.open(path, clock=clock)
    assert "3 unreadable entries" in store.problem
    assert store.lesson("l").steps_seen == {"ok"}
    [backup] = path.parent.glob("progress.json.corrupt-*")
    assert backup.read_text() == original
    store.mark_step_seen("l", "new")
    assert len(list(path.parent.glob("progress.json.corrupt-*"))) == 1  # backed up once, not per change


def test_a_newer_file_is_left_alone(path, clock):
    newer = json.dumps({"schema_version": SCHEMA_VERSION + 1, "lessons": {"l": "whatever it means"}})
    path.write_text(newer)
    store = ProgressStore.open(path, clock=clock)
    assert "newer tutor" in store.problem and "memory only" in store.problem
    [copy] = path.parent.glob("progress.json.newer-*")
    assert copy.read_text() == newer
    store.mark_step_seen("l", "s")
    assert store.lesson("l").steps_seen == {"s"}  # kept in memory for this session
    assert path.read_text() == newer


def test_an_unreadable_path_keeps_progress_in_memory(tmp_path, clock):
    path = tmp_path / "progress.json"
    path.mkdir()  # a folder where the file should be
    store = ProgressStore.open(path, clock=clock)
    assert "cannot read" in store.problem
    store.mark_step_seen("l", "s")
    assert store.lesson("l").steps_seen == {"s"}


def test_a_failed_write_is_retried_with_the_next_change(store, path, monkeypatch):
    real = files.write_atomically
    calls = []

    def full_disk(target, text):
        calls.append(target)
        if len(calls) == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(target, text)

    monkeypatch.setattr(store_module, "write_atomically", full_disk)
    store.mark_step_seen("l", "s1")
    assert "No space left" in store.problem and not path.exists()
    assert store.lesson("l").steps_seen == {"s1"}
    store.mark_step_seen("l", "s2")
    assert set(on_disk(path)["lessons"]["l"]["steps"]) == {"s1", "s2"}
    assert list(path.parent.glob(".progress-*")) == []


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temp(store, path, monkeypatch):
    store.mark_step_seen("l", "s1")
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    store.mark_step_seen("l", "s2")
    assert path.read_bytes() == before
    assert list(path.parent.glob(".progress-*")) == []
    assert "I/O error" in store.problem


# -- moving progress between machines --------------------------------------------------


def test_export_and_import_merge(tmp_path, clock):
    home = ProgressStore.open(tmp_path / "home.json", clock=clock)
    work = ProgressStore.open(tmp_path / "work.json", clock=clock)
    home.record_quiz_attempt("l", "q", "a", correct=False)
    home.save_code("l", "c", "old")
    clock.advance(10)
    work.record_quiz_attempt("l", "q", "b", correct=True)
    work.mark_step_seen("m", "s")
    work.save_code("l", "c", "new")
    work.export(tmp_path / "export.json")
    assert on_disk(tmp_path / "export.json")["schema_version"] == SCHEMA_VERSION

    assert home.import_file(tmp_path / "export.json") == 2
    assert home.import_file(tmp_path / "export.json") == 2  # twice: nothing doubles
    lesson = home.lesson("l")
    assert [a.answer for a in lesson.quizzes["q"].attempts] == ["a", "b"]
    assert lesson.code == {"c": "new"} and home.lesson("m").steps_seen == {"s"}
    assert len(home.reviews()) == 1  # the wrong answer at home is still scheduled


def test_importing_a_bad_file_changes_nothing(tmp_path, store, path):
    store.mark_step_seen("l", "s")
    before = path.read_bytes()
    bad = tmp_path / "bad.json"
    for content, message in (("nope", "not valid JSON"), ('{"schema_version": 99}', "newer tutor"),
                             ('{"schema_version": 1, "lessons": {"l": 3}}', "not readable progress")):
        bad.write_text(content)
        with pytest.raises(ProgressFileError, match=message):
            store.import_file(bad)
    with pytest.raises(ProgressFileError, match="cannot read"):
        store.import_file(tmp_path / "missing.json")
    assert path.read_bytes() == before and bad.exists()


# -- two tutors at once ----------------------------------------------------------------


def test_two_stores_on_one_file_lose_nothing(path, clock):
    a = ProgressStore.open(path, clock=clock)
    b = ProgressStore.open(path, clock=clock)
    a.mark_step_seen("l", "from-a")
    b.mark_step_seen("l", "from-b")
    a.record_quiz_attempt("l", "q", "x", correct=True)
    b.record_cell_run("l", "c", ok=True)
    for store in (a, b, ProgressStore.open(path)):
        lesson = store.lesson("l")
        assert lesson.steps_seen == {"from-a", "from-b"}
        assert "q" in lesson.quizzes and lesson.cells_run == {"c"}


def test_a_reset_in_one_tutor_is_not_undone_by_the_other(path, clock):
    a = ProgressStore.open(path, clock=clock)
    b = ProgressStore.open(path, clock=clock)
    a.mark_step_seen("l", "s")
    b.lesson("l")
    a.reset("l")
    b.mark_step_seen("m", "t")
    assert set(on_disk(path)["lessons"]) == {"m"}


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from tutor.progress import ProgressStore, files
    if sys.argv[4] == "fallback":
        files.fcntl = None
    store = ProgressStore.open(Path(sys.argv[1]))
    name, count = sys.argv[2], int(sys.argv[3])
    for i in range(count):
        store.record_quiz_attempt("race", f"{name}-q{i % 5}", str(i), correct=i % 2 == 0)
        store.mark_step_seen("race", f"{name}-s{i}")
    print(store.problem or "ok")
""")


@pytest.mark.parametrize("lock", ["flock", "fallback"])
def test_concurrent_writer_processes_lose_nothing(path, lock):
    writers, count = 4, 40
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), f"w{n}", str(count), lock],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in range(writers)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == "ok"
    lesson = ProgressStore.open(path).lesson("race")
    assert len(lesson.steps_seen) == writers * count
    attempts = sum(len(r.attempts) for r in lesson.quizzes.values())
    assert attempts == writers * count


def test_fallback_lock_takes_over_an_abandoned_lock(path, monkeypatch):
    monkeypatch.setattr(files, "fcntl", None)
    held = path.with_name(path.name + ".lock.held")
    held.write_text("12345")
    old = time.time() - files.STALE_LOCK_AGE - 5
    os.utime(held, (old, old))
    started = time.monotonic()
    ProgressStore.open(path).mark_step_seen("l", "s")
    assert time.monotonic() - started < 2
    assert on_disk(path)["lessons"]["l"]["steps"]
    assert not held.exists()


def test_a_lock_held_too_long_does_not_hang_the_tutor(path, monkeypatch):
    monkeypatch.setattr(files, "LOCK_TIMEOUT", 0.2)
    import fcntl

    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import fcntl, os, sys, time
        fd = os.open({str(lock)!r}, os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        print("held", flush=True)
        time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        store = ProgressStore.open(path)
        started = time.monotonic()
        store.mark_step_seen("l", "s")
        assert time.monotonic() - started < 5
        assert on_disk(path)["lessons"]["l"]["steps"]
    finally:
        holder.kill()
        holder.wait()
        os.close(fd)


# -- crash safety: kill -9 in the middle of writes -------------------------------------

HAMMER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from tutor.progress import ProgressStore
    if sys.argv[2] == "pause-in-write":  # announce each write between temp file and rename
        real_fsync = os.fsync
        def fsync(fd):
            print("writing", flush=True)
            time.sleep(0.05)
            real_fsync(fd)
        os.fsync = fsync
    store = ProgressStore.open(Path(sys.argv[1]))
    big = "x = 1\\n" * 20000  # ~120 kB per write, so random kills land mid-write too
    print("ready", flush=True)
    i = 0
    while True:
        store.save_code("crash", f"cell{i % 7}", big + str(i))
        store.record_cell_run("crash", f"cell{i % 7}", ok=True)
        i += 1
""")


def check_valid(path: Path) -> None:
    doc = on_disk(path)  # parses: never half-written
    assert doc["schema_version"] == SCHEMA_VERSION
    assert ProgressStore.open(path).problem is None


def test_kill_9_at_random_moments_always_leaves_a_valid_file(path):
    rng = random.Random(5)
    for _ in range(10):
        proc = subprocess.Popen([sys.executable, "-c", HAMMER, str(path), "free"], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.02, 0.3))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if path.exists():
            check_valid(path)
    assert not list(path.parent.glob("progress.json.corrupt-*"))


def test_kill_9_between_temp_file_and_rename_keeps_the_previous_file(path):
    for n in range(6):
        proc = subprocess.Popen([sys.executable, "-c", HAMMER, str(path), "pause-in-write"],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(n + 1):  # let n writes finish, kill in the next one
            assert proc.stdout.readline().strip() == "writing"
        before = path.read_bytes() if path.exists() else None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert list(path.parent.glob(".progress-*.tmp")), "the kill should land mid-write"
        assert (path.read_bytes() if path.exists() else None) == before
        if path.exists():
            check_valid(path)
    lesson = ProgressStore.open(path).lesson("crash")
    assert lesson.cells_run and all(code.startswith("x = 1") for code in lesson.code.values())


def test_temp_files_left_by_a_crash_are_cleaned_up_later(path):
    stale = path.parent / ".progress-abc.tmp"
    fresh = path.parent / ".progress-def.tmp"
    stale.write_text("half")
    fresh.write_text("half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    ProgressStore.open(path)
    assert not stale.exists() and fresh.exists()  # a fresh one may be another tutor's write


def test_score_against_a_lesson(store):
    from tutor.lessons import parse_text

    result = parse_text("---\nid: l\ntitle: L\n---\n## A\n\n```quiz\nid: q\nquestion: Which?\nanswer: x\n```\n"
                        "## B\n\ntext\n")
    assert result.ok, result.errors
    lesson = result.lesson
    assert store.lesson("l").score(lesson).fraction == 0.0
    store.mark_step_seen("l", "a")
    store.record_quiz_attempt("l", "q", "x", correct=True)
    score = store.lesson("l").score(lesson)
    assert (score.steps_seen, score.steps, score.quizzes_right, score.quizzes) == (1, 2, 1, 1)
    assert (score.exercises_passed, score.exercises) == (0, 0)
    assert score.steps_done == 1 and score.fraction == pytest.approx(1 / 2) and not score.done
