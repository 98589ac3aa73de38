"""What several commands share: finding the course and a lesson in it."""

from __future__ import annotations

from tutor import config
from tutor.commands.options import add_course_option  # noqa: F401 (re-exported for commands)
from tutor.errors import UserError
from tutor.lessons import Catalog, Lesson, LessonNotFound, load_catalog


def open_catalog(lessons_option: str | None) -> Catalog:
    try:
        return load_catalog(config.lessons_dir(lessons_option))
    except LessonNotFound as err:
        raise UserError(str(err)) from None


def find_lesson(catalog: Catalog, key: str) -> Lesson:
    try:
        return catalog.find(key)
    except LessonNotFound as err:
        raise UserError(str(err)) from None
