"""Lessons as data: the model, the Markdown parser and the course catalog (pure).

The parser (markdown-it, YAML) is imported when something is parsed, not with the
package: the app starts without it, from the cached course (``tutor.course_cache``) or,
on a first start, from the course's outline (``tutor.lessons.outline``).
"""

from tutor.lessons.catalog import Catalog, LessonNotFound, load_catalog, load_lesson
from tutor.lessons.model import (
    CodeCell,
    Exercise,
    Hint,
    Lesson,
    LessonError,
    ParseResult,
    Prose,
    Quiz,
    SetupCell,
    Step,
)

__all__ = [
    "Catalog", "CodeCell", "Exercise", "Hint", "Lesson", "LessonError", "LessonNotFound",
    "ParseResult", "Prose", "Quiz", "SetupCell", "Step", "load_catalog", "load_lesson",
    "parse_file", "parse_text",
]


def __getattr__(name: str):
    if name in ("parse_file", "parse_text"):
        from tutor.lessons import parser

        return getattr(parser, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
