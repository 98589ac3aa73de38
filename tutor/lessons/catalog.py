"""A course: the lesson files of one folder, in order, with lookup by number, id or path.

A broken lesson is kept with its errors and never stops the others from loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tutor.lessons.model import Lesson, LessonError, ParseResult


class LessonNotFound(LookupError):
    """No lesson matches what the user asked for (the message says what exists)."""


@dataclass(frozen=True)
class Catalog:
    root: Path
    results: tuple[ParseResult, ...]  # every file, in course order

    @property
    def lessons(self) -> tuple[Lesson, ...]:
        """Lessons that loaded without errors, in course order."""
        return tuple(r.lesson for r in self.results if r.ok)

    @property
    def broken(self) -> tuple[ParseResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    @property
    def errors(self) -> tuple[LessonError, ...]:
        return tuple(e for r in self.results for e in r.errors)

    def by_id(self, lesson_id: str | None) -> Lesson | None:
        """The usable lesson with this id, or None."""
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def find(self, key: str) -> Lesson:
        """A lesson by number (``03`` or ``3``), id, file name, or path to a ``.md`` file."""
        key = str(key).strip()
        for result in self.results:
            lesson = result.lesson
            if lesson is not None and (key == lesson.id or key in (result.path.name, result.path.stem)):
                return self._usable(result)
        if key.isdigit():
            numbered = [r for r in self.results
                        if r.lesson is not None and r.lesson.number is not None and int(r.lesson.number) == int(key)]
            if len(numbered) > 1:
                names = ", ".join(r.lesson.id for r in numbered)
                raise LessonNotFound(f"lesson number {key} is ambiguous ({names}): use the id")
            if numbered:
                return self._usable(numbered[0])
        path = Path(key).expanduser()
        if path.suffix == ".md" or path.exists():
            return load_lesson(path)
        known = ", ".join(f"{l.number or '-'} {l.id}" for l in self.lessons) or "none"
        raise LessonNotFound(f"no lesson '{key}' in {self.root} (lessons: {known})")

    @staticmethod
    def _usable(result: ParseResult) -> Lesson:
        if not result.ok:
            first = result.errors[0]
            more = f" (and {len(result.errors) - 1} more; run 'tutor check')" if len(result.errors) > 1 else ""
            raise LessonNotFound(f"lesson file is broken: {first}{more}")
        assert result.lesson is not None
        return result.lesson


def load_lesson(path: Path) -> Lesson:
    """One lesson file outside the course folder (``tutor path/to/lesson.md``)."""
    if not path.is_file():
        raise LessonNotFound(f"no lesson file at {path}")
    result = check_paths([path])[0]
    return Catalog._usable(result)


def lesson_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*.md") if p.is_file() and p.name.lower() != "readme.md")


def load_catalog(root: Path) -> Catalog:
    """Parse every lesson in ``root`` and check what needs the whole course."""
    if not root.is_dir():
        raise LessonNotFound(f"no lesson folder at {root}")
    return Catalog(root=root, results=tuple(_order(check_paths(lesson_files(root)))))


def as_course(root: Path, results: list[ParseResult], kind: type[Catalog] = Catalog) -> Catalog:
    """Every lesson file of ``root``, read (``results``), as a course: the cross-file
    errors added, in course order."""
    return kind(root=root, results=tuple(_order(with_course_errors(results, {}))))


def check_paths(paths: list[Path]) -> list[ParseResult]:
    """Parse files and add the cross-file errors: duplicate lesson ids, and
    ``requires`` naming a lesson that is neither among them nor beside them."""
    from tutor.lessons.parser import parse_file  # markdown-it and YAML: only when parsing

    results = [parse_file(p) for p in paths]
    known: dict[str, Path] = {}
    for folder in {p.parent for p in paths}:
        for sibling in lesson_files(folder):
            if sibling not in paths:
                other = parse_file(sibling).lesson
                if other is not None:
                    known.setdefault(other.id, sibling)
    return with_course_errors(results, known)


def with_course_errors(results: list[ParseResult], known: dict[str, Path]) -> list[ParseResult]:
    """``results`` with the cross-file errors added: duplicate lesson ids, and
    ``requires`` naming a lesson that is neither among them nor in ``known``."""
    out: list[ParseResult] = []
    seen: dict[str, ParseResult] = {}
    for result in results:
        if result.lesson is not None:
            seen.setdefault(result.lesson.id, result)
    ids = set(seen) | set(known)
    for result in results:
        lesson = result.lesson
        extra: list[LessonError] = []
        if lesson is not None:
            first = seen[lesson.id]
            if first is not result:
                extra.append(LessonError(result.path, lesson.id_line,
                                         f"duplicate lesson id '{lesson.id}' (also in {first.path})"))
            for req in lesson.requires:
                if req not in ids:
                    extra.append(LessonError(result.path, lesson.requires_line,
                                             f"'requires' names an unknown lesson '{req}'"))
        if extra:
            errors = tuple(sorted(result.errors + tuple(extra), key=lambda e: e.line))
            result = ParseResult(result.path, result.lesson, errors)
        out.append(result)
    return out


def _order(results: list[ParseResult]) -> list[ParseResult]:
    """By file-name prefix, then so that every lesson comes after those it requires."""
    def prefix_key(r: ParseResult):
        number = r.lesson.number if r.lesson else None
        return (0, int(number), r.path.name) if number is not None else (1, 0, r.path.name)

    ordered = sorted(results, key=prefix_key)
    by_id = {r.lesson.id: r for r in ordered if r.lesson is not None}
    placed: list[ParseResult] = []
    visiting: set[int] = set()

    def place(r: ParseResult) -> None:
        if any(r is p for p in placed) or id(r) in visiting:
            return  # already placed, or a requires cycle: keep file order
        visiting.add(id(r))
        for req in (r.lesson.requires if r.lesson else ()):
            if req in by_id:
                place(by_id[req])
        visiting.discard(id(r))
        placed.append(r)

    for r in ordered:
        place(r)
    return placed
