"""How the lesson format names things: step ids from headings, lesson numbers from file
names, and the words of a fence's info string. Shared by the parser and the outline
reader, so that both give every step and block the same id; imports nothing heavy.
"""

from __future__ import annotations

import re
from pathlib import Path

PYTHON_KINDS = ("exercise", "check", "solution", "setup")
SHELL_KINDS = ("exercise", "solution")  # a shell exercise is graded by a 'python check'
RUNNABLE_LANGUAGES = ("python", "sh")


def slugify(text: str) -> str:
    """A stable, readable id from a heading: ``"Why tensors?"`` -> ``why-tensors``."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "step"


class StepIds:
    """Step ids in file order: a title used again gets ``-2``, ``-3``..."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def next(self, title: str) -> str:
        slug = slugify(title)
        self._seen[slug] = self._seen.get(slug, 0) + 1
        return slug if self._seen[slug] == 1 else f"{slug}-{self._seen[slug]}"


def lesson_number(path: Path) -> str | None:
    """The ordering prefix of a lesson file name: ``03-computer-vision.md`` -> ``03``."""
    match = re.match(r"^(\d+)", path.name)
    return match.group(1) if match else None
