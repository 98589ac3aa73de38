"""``tutor review``: what is due for review (quizzes got wrong, solutions needed)."""

from __future__ import annotations

import time

from tutor.commands.common import add_course_option, open_catalog
from tutor.commands.progress_view import open_store
from tutor.review import when


def add_arguments(parser) -> None:
    add_course_option(parser)
    parser.add_argument("--all", action="store_true", help="also list what is scheduled for later")


def run(args) -> int:
    store = open_store()
    catalog = open_catalog(args.lessons)
    titles = {lesson.id: lesson.title for lesson in catalog.lessons}
    now = time.time()
    items = store.reviews()
    due = [item for item in items if item.due <= now]
    later = [item for item in items if item.due > now]
    if not items:
        print("Nothing to review. Quizzes you get wrong, and exercises you need the solution for, "
              "come back here a day later.")
        return 0
    print(f"{len(due)} to review now" + (":" if due else "."))
    for item in due:
        print(f"  {titles.get(item.lesson_id, item.lesson_id)}: {item.kind} {item.item_id} (box {item.box})")
    if later and args.all:
        print("Later:")
        for item in later:
            print(f"  {titles.get(item.lesson_id, item.lesson_id)}: {item.kind} {item.item_id} "
                  f"(box {item.box}, {when(item, now)})")
    elif later:
        print(f"{len(later)} more later (the next {when(later[0], now)}); --all lists them.")
    if due:
        print("Open the tutor and press r on the home screen to review them.")
    return 0
