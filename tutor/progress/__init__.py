"""The learner's progress: one JSON file, safe against crashes and against two tutors.

Pure (stdlib only; never imports textual, rich or torch). The API, used by the UI and
the CLI, is re-exported here::

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
                                    exercises_passed, exercises, steps_done); .fraction, .done
    progress.step_done(step); progress.done_steps(lesson)   # the one rule of "done"
    progress.quizzes[id] -> QuizRecord(attempts, correct); .exercises[id] -> ExerciseRecord

Where each part lives: ``records`` (the snapshots above, and what counts as done),
``document`` (the JSON schema, cleaning and migrations), ``merge`` (two documents in
one), ``files`` (lock, atomic write, backups), ``store`` (``ProgressStore``),
``tracker`` (one lesson's progress kept current while the learner works in it) and
``background`` (the store off the UI's event loop).

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

from tutor.progress.document import MIGRATIONS, SCHEMA_VERSION, clean_document, empty_document, parse_document
from tutor.progress.files import file_lock, write_atomically
from tutor.progress.merge import merge_documents
from tutor.progress.records import Attempt, ExerciseRecord, LessonProgress, QuizRecord, Score
from tutor.progress.store import ProgressFileError, ProgressStore
from tutor.progress.tracker import LessonTracker

__all__ = [
    "MIGRATIONS", "SCHEMA_VERSION", "Attempt", "ExerciseRecord", "LessonProgress", "LessonTracker", "ProgressFileError",
    "ProgressStore", "QuizRecord", "Score", "clean_document", "empty_document", "file_lock", "merge_documents",
    "parse_document", "write_atomically",
]
