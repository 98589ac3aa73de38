"""The course read cheaply, for the home screen's first frame when no parsed course is
cached yet (a learner's very first ``tutor``, or the first after a lesson changed).

For each lesson file: its front matter, its ``## `` steps, and the ids of the blocks
that count for progress (cells, exercises, quizzes), found by scanning lines for ATX
headings and top-level fences: no markdown-it, and no YAML for front matter of plain
``key: value`` lines. That costs a few milliseconds where the full parse, with its
imports, costs a quarter of a second.

An outline is provisional and hollow: its blocks carry ids and lines but no code or
text, and it finds only the problems that stop it reading a file (no front matter, no
steps, an unclosed fence, front matter it cannot read simply): such a file is parsed in
full, so that its errors are the parser's own. The app replaces the outline with the
full parse (``load_catalog``) as soon as that is done, and never opens a lesson from it.
Where the scan and CommonMark could differ (a setext heading, a ``##`` inside an HTML
block), only the first frame is affected.
"""

from __future__ import annotations

import re
from pathlib import Path

from tutor.lessons.catalog import Catalog, as_course, lesson_files
from tutor.lessons.model import CodeCell, Exercise, Lesson, ParseResult, Quiz, Step
from tutor.lessons.names import PYTHON_KINDS, RUNNABLE_LANGUAGES, SHELL_KINDS, StepIds, lesson_number


class CourseOutline(Catalog):
    """A course read by ``read_outline``: lessons with their steps and block ids only."""


class _Unreadable(Exception):
    """The file needs the full parser (something the outline does not read simply)."""


_MAY_MATTER = " `~#<"  # the first characters of a fence, a heading or an HTML comment
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^ {0,3}##(?:[ \t](.*))?$")
_KEY_VALUE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):(?:[ \t]+(.*?))?[ \t]*$")
_PLAIN = re.compile(r"^[^-?:,\[\]{}#&*!|>'\"%@`\s](?:(?!: | #).)*(?<![:\s])$")
_TYPED = re.compile(r"^[-+.~0-9]|^(?:null|true|false)$", re.IGNORECASE)  # YAML would not give text


def read_outline(root: Path) -> CourseOutline:
    """The outline of every lesson file in ``root`` (a folder that exists)."""
    return as_course(root, [outline_file(path) for path in lesson_files(root)], kind=CourseOutline)


def outline_file(path: Path) -> ParseResult:
    """One lesson file's outline, or its full parse when the outline cannot read it."""
    try:
        lesson = _outline(path, path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, _Unreadable):
        from tutor.lessons.parser import parse_file  # markdown-it and YAML: only now

        return parse_file(path)
    return ParseResult(path, lesson, ())


def _outline(path: Path, source: str) -> Lesson:
    lines = source.splitlines()
    meta, key_lines, body = _front_matter(lines)
    headings, fences = _structure(lines, body)
    if not headings:
        raise _Unreadable("no steps")
    steps = []
    ids = StepIds()
    for n, (line, title) in enumerate(headings):
        stop = headings[n + 1][0] if n + 1 < len(headings) else len(lines)
        slug = ids.next(title)
        blocks = _blocks(slug, [(start, info, content) for start, info, content in fences if line < start < stop])
        steps.append(Step(id=slug, title=title, blocks=tuple(blocks), line=line + 1))
    requires = meta.get("requires", ())
    return Lesson(
        id=_required_text(meta, "id"), title=_required_text(meta, "title"), path=path, steps=tuple(steps),
        summary=str(meta.get("summary") or "").strip(), minutes=meta.get("minutes"),
        requires=tuple(str(r) for r in ([requires] if isinstance(requires, str) else requires)),
        device=meta.get("device"), number=lesson_number(path),
        id_line=key_lines.get("id", 1), requires_line=key_lines.get("requires", 1),
    )


def _required_text(meta: dict, key: str) -> str:
    value = meta.get(key)
    if not isinstance(value, (str, int)) or not str(value).strip():
        raise _Unreadable(f"no {key}")
    return str(value)


def _front_matter(lines: list[str]) -> tuple[dict, dict[str, int], int]:
    """(values, line of each key, first body line) of plain ``key: value`` front matter."""
    if not lines or lines[0].rstrip() != "---":
        raise _Unreadable("no front matter")
    end = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() == "---"), None)
    if end is None:
        raise _Unreadable("front matter never closed")
    meta: dict = {}
    key_lines: dict[str, int] = {}
    for i, line in enumerate(lines[1:end], 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _KEY_VALUE.match(line)
        if match is None or match.group(1) in meta:
            raise _Unreadable("front matter is more than key: value lines")
        key, raw = match.groups()
        value = _flow_list(raw) if raw and raw.startswith("[") else _scalar(raw)
        if key == "minutes" and not (isinstance(value, int) and value > 0):
            raise _Unreadable("minutes")  # the parser says what is wrong
        meta[key], key_lines[key] = value, i + 1
    return meta, key_lines, end + 1


def _scalar(raw: str | None) -> object:
    """A plain, single- or double-quoted YAML scalar as YAML reads it; else unreadable."""
    if not raw:
        raise _Unreadable("empty value")
    if raw[0] == '"':
        if len(raw) < 2 or raw[-1] != '"' or '"' in raw[1:-1] or "\\" in raw:
            raise _Unreadable("double-quoted")
        return raw[1:-1]
    if raw[0] == "'":
        inner = raw[1:-1]
        if len(raw) < 2 or raw[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Unreadable("single-quoted")
        return inner.replace("''", "'")
    if re.fullmatch(r"0|[1-9][0-9]*", raw):
        return int(raw)
    if not _PLAIN.match(raw) or _TYPED.match(raw):
        raise _Unreadable("not plain text")
    return raw


def _flow_list(raw: str) -> list:
    if not raw.endswith("]"):
        raise _Unreadable("flow list")
    inner = raw[1:-1].strip()
    return [_scalar(item.strip()) for item in inner.split(",")] if inner else []


def _structure(lines: list[str], body: int) -> tuple[list[tuple[int, str]], list[tuple[int, str, list[str]]]]:
    """The ``## `` headings (line, title) and the top-level fences (line, info string,
    content lines) from line ``body`` on, 0-based. A fence's content is never read for
    headings; an indented fence (in a list item) is skipped but not listed."""
    headings: list[tuple[int, str]] = []
    fences: list[tuple[int, str, list[str]]] = []
    i, count = body, len(lines)
    while i < count:
        line = lines[i]
        if not line or line[0] not in _MAY_MATTER:  # most lines: prose
            i += 1
            continue
        fence = _FENCE.match(line)
        if fence and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):
            indent, marker, info = fence.groups()
            close = re.compile(rf"^ {{0,3}}{re.escape(marker)}{re.escape(marker[0])}*[ \t]*$")
            end = next((j for j in range(i + 1, count) if marker in lines[j] and close.match(lines[j])), None)
            if end is None and not indent:
                raise _Unreadable("a fence is never closed")  # the parser says where
            if end is None:  # in a list item, it ends with the item: only this line is sure
                i += 1
                continue
            if not indent:
                fences.append((i, info, lines[i + 1:end]))
            i = end + 1
            continue
        if line.lstrip(" ").startswith("<!--") and len(line) - len(line.lstrip(" ")) < 4:
            i = next((j for j in range(i, count) if "-->" in lines[j]), count) + 1
            continue
        heading = _HEADING.match(line)
        if heading:
            headings.append((i, _heading_text(heading.group(1) or "")))
        i += 1
    return headings, fences


def _heading_text(rest: str) -> str:
    """An ATX heading's text, without a closing run of ``#`` (as CommonMark reads it)."""
    text = rest.rstrip(" \t")
    bare = text.rstrip("#")
    if len(bare) < len(text) and (not bare or bare[-1] in " \t"):
        text = bare
    return text.strip()


def _blocks(slug: str, fences: list[tuple[int, str, list[str]]]) -> list:
    """A step's cells, exercises and quizzes, with the ids the parser gives them."""
    blocks: list = []
    counters = {"cell": 0, "exercise": 0, "quiz": 0}
    for line, info, content in fences:
        words = info.split()
        language = words[0].lower() if words else ""
        if language == "quiz":
            counters["quiz"] += 1
            quiz_id = _quiz_id(content) or f"{slug}-quiz{counters['quiz']}"
            blocks.append(Quiz(id=quiz_id, question="", answer="", line=line + 1))
            continue
        if language not in RUNNABLE_LANGUAGES:
            continue
        rest = words[1:]
        kind = "code"
        if rest and "=" not in rest[0]:
            kind = rest.pop(0).lower()
            if kind not in (PYTHON_KINDS if language == "python" else SHELL_KINDS):
                continue  # a misspelt kind is shown, not run (and an error)
        if kind not in ("code", "exercise"):
            continue  # setup, check and solution belong to the cell or exercise around them
        counter = "cell" if kind == "code" else "exercise"
        counters[counter] += 1
        ids = [word[3:] for word in rest if word.startswith("id=") and len(word) > 3]
        block_id = ids[-1] if ids else f"{slug}-{counter}{counters[counter]}"
        if kind == "code":
            blocks.append(CodeCell(id=block_id, code="", line=line + 1, language=language))
        else:
            blocks.append(Exercise(id=block_id, starter="", check="", solution="", line=line + 1,
                                   check_line=0, solution_line=0, language=language))
    return blocks


def _quiz_id(content: list[str]) -> str | None:
    """The ``id:`` a quiz's YAML gives, when written as a plain top-level key."""
    text = "\n".join(content).lstrip()
    if text.startswith(("{", "-", "[", "?", "&", "!", "%")) or re.search(r"^\s+id\s*:|^[\"']id", text, re.M):
        raise _Unreadable("quiz YAML that is not a plain mapping")
    found = [line for line in content if line.startswith("id:")]
    if len(found) > 1:
        raise _Unreadable("two ids")
    if not found:
        return None
    match = _KEY_VALUE.match(found[0])
    if match is None:
        raise _Unreadable("not key: value")
    return str(_scalar(match.group(2))).strip()
