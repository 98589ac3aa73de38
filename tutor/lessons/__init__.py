"""Lessons as data: the model, the Markdown parser and the course catalog (pure)."""

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
from tutor.lessons.parser import parse_file, parse_text

__all__ = [
    "Catalog", "CodeCell", "Exercise", "Hint", "Lesson", "LessonError", "LessonNotFound",
    "ParseResult", "Prose", "Quiz", "SetupCell", "Step", "load_catalog", "load_lesson",
    "parse_file", "parse_text",
]
