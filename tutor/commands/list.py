"""``tutor list``: the lessons of the course, in order, with minutes and progress."""

from __future__ import annotations

import sys

from tutor.commands.common import add_course_option, open_catalog


def add_arguments(parser) -> None:
    add_course_option(parser)


def run(args) -> int:
    catalog = open_catalog(args.lessons)
    rows = lesson_rows(catalog)
    if not rows:
        print(f"No lessons in {catalog.root}.")
    for row in rows:
        print(row)
    for broken in catalog.broken:
        count = len(broken.errors)
        print(f"  !! {broken.path.name}: broken ({count} problem{'s' * (count != 1)}), "
              f"e.g. {broken.errors[0]}", file=sys.stderr)
    return 0


def lesson_rows(catalog) -> list[str]:
    """One line per lesson: number, id, title, minutes, progress."""
    from tutor.commands.progress_view import progress_columns

    progress = progress_columns(catalog)
    lessons = catalog.lessons
    width = max((len(l.title) for l in lessons), default=0)
    rows = []
    for lesson in lessons:
        minutes = f"{lesson.minutes} min" if lesson.minutes else ""
        extra = progress.get(lesson.id, "")
        rows.append(f"{lesson.number or '--':>3}  {lesson.title:<{width}}  {minutes:>7}  {extra}".rstrip()
                    + f"\n     {lesson.id}: {lesson.summary}" * bool(lesson.summary))
    return rows
