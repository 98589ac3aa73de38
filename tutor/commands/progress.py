"""``tutor progress``: scores per lesson; ``--reset``, ``--export`` and ``--import``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tutor.commands.common import add_course_option, find_lesson, open_catalog
from tutor.commands.progress_view import ago, open_store, score_text
from tutor.errors import UserError
from tutor.progress import ProgressFileError, ProgressStore


def add_arguments(parser) -> None:
    add_course_option(parser)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--reset", nargs="?", const="", metavar="LESSON",
                        help="forget the progress of LESSON (a number or id), or of every lesson")
    action.add_argument("--export", metavar="FILE", help="write all progress to FILE (JSON; '-' for stdout)")
    action.add_argument("--import", dest="import_", metavar="FILE",
                        help="merge the progress in FILE (from --export) into this machine's")
    parser.add_argument("--yes", "-y", action="store_true", help="reset without asking")


def run(args) -> int:
    store = open_store()
    if args.export:
        return export(store, args.export)
    if args.import_:
        return import_(store, args.import_)
    if args.reset is not None:
        return reset(store, args.reset, args.lessons, args.yes)
    if args.yes:
        raise UserError("--yes goes with --reset")
    return show(store, args.lessons)


def show(store: ProgressStore, lessons_option: str | None) -> int:
    catalog = open_catalog(lessons_option)
    now = time.time()
    lessons = catalog.lessons
    width = max((len(lesson.title) for lesson in lessons), default=0)
    for lesson in lessons:
        progress = store.lesson(lesson.id)
        seen = ago(progress.last_seen, now) if progress.started else "not started"
        print(f"{lesson.number or '--':>3}  {lesson.title:<{width}}  {score_text(lesson, progress)}  "
              f"(last seen: {seen})")
    known = {lesson.id for lesson in lessons}
    others = sorted(set(store.lessons()) - known)
    if others:
        print(f"Also progress in lessons not in this course: {', '.join(others)}")
    due = store.due_reviews(now)
    if due:
        print(f"{len(due)} to review now: see 'tutor review', or press r on the home screen.")
    if not lessons:
        print(f"No lessons in {catalog.root}.")
    print(f"Progress file: {store.path}")
    return 0


def _lesson_to_reset(store: ProgressStore, key: str, lessons_option: str | None) -> tuple[str, str]:
    """(id, title): a lesson of the course, or an id that is only in the progress file."""
    try:
        lesson = find_lesson(open_catalog(lessons_option), key)
    except UserError:
        if key in store.lessons():
            return key, key
        raise
    return lesson.id, lesson.title


def reset(store: ProgressStore, key: str, lessons_option: str | None, yes: bool) -> int:
    if key:
        lesson_id, title = _lesson_to_reset(store, key, lessons_option)
        if not store.lesson(lesson_id).started:
            print(f"No progress in '{title}': nothing to reset.")
            return 0
        question = f"Forget all progress in '{title}' (steps, answers, exercises, edited code)?"
    else:
        lesson_id = None
        count = len(store.lessons())
        if not count:
            print("No progress yet: nothing to reset.")
            return 0
        question = f"Forget ALL progress ({count} lesson{'s' * (count != 1)}, answers, edited code, reviews)?"
    if not yes and not confirm(question):
        print("Nothing was reset.")
        return 1
    backup = store.path.with_name(f"{store.path.name}.before-reset-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        store.export(backup)
    except OSError as err:
        raise UserError(f"cannot keep a copy before resetting ({err.strerror or err}); nothing was reset") from None
    _saved_or_fail(store, lambda: store.reset(lesson_id))
    print(f"Reset {'all progress' if lesson_id is None else repr(title)}. "
          f"The old progress is kept in {backup} (tutor progress --import to bring it back).")
    return 0


def _saved_or_fail(store: ProgressStore, change):
    """Run a change; a new problem (the file could not be written) is an error here."""
    before = store.problem
    result = change()
    if store.problem and store.problem != before:
        raise UserError(store.problem)
    return result


def confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise UserError("not resetting without a confirmation: run it in a terminal, or add --yes")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def export(store: ProgressStore, target: str) -> int:
    count = len(store.lessons())
    if target == "-":
        import json

        json.dump(store.document(), sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
        print()
        return 0
    path = Path(target).expanduser()
    if path.is_dir():
        raise UserError(f"{path} is a folder: give a file name, e.g. {path / 'tutor-progress.json'}")
    try:
        store.export(path)
    except OSError as err:
        raise UserError(f"cannot write {path}: {err.strerror or err}") from None
    print(f"Exported the progress of {count} lesson{'s' * (count != 1)} to {path}.")
    return 0


def import_(store: ProgressStore, source: str) -> int:
    path = Path(source).expanduser()
    try:
        count = _saved_or_fail(store, lambda: store.import_file(path))
    except ProgressFileError as err:
        raise UserError(str(err)) from None
    print(f"Merged the progress of {count} lesson{'s' * (count != 1)} from {path} into {store.path}.")
    return 0
