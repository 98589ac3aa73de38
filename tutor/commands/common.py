"""What several commands share: finding the course and a lesson in it."""

from __future__ import annotations

from tutor import config
from tutor.errors import UserError
from tutor.lessons import Catalog, Lesson, LessonNotFound, load_catalog


def add_course_option(parser) -> None:
    parser.add_argument("--lessons", metavar="DIR", help="use the course in DIR instead of the built-in one")


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
