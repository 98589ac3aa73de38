"""The lesson model: what a parsed lesson file is, as frozen dataclasses.

Pure data. The parser builds these; the runner, the UI and the progress store read them.
Every block remembers the 1-based line of the file it came from, so that errors and
failing cells can be reported as ``path:line``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union


@dataclass(frozen=True)
class Prose:
    """Markdown shown to the learner (paragraphs, lists, tables, display-only code)."""

    text: str
    line: int


@dataclass(frozen=True)
class SetupCell:
    """Hidden code that runs before the next visible cell (imports, data)."""

    code: str
    line: int


@dataclass(frozen=True)
class CodeCell:
    """An editable, runnable cell. Cells of one lesson share one namespace, in order.

    ``setup`` holds the hidden setup cells written just before this one; they run
    (once per worker) before it. ``raises`` names the exception the cell is meant to
    raise ("run it and read the error"), or several as ``A|B`` when devices differ:
    the headless runner counts that as a pass. ``diagnose`` is ``off`` (no training-loop
    advice for this cell) or the mistakes it shows on purpose (``zero-grad|loss-flat``).

    ``language`` is "python", or "sh" for a shell command run in the lesson's
    workspace. ``file``, a path relative to the workspace (``python file=pkg/mod.py``),
    makes a cell whose code is written to that file when it runs, not executed.
    """

    id: str
    code: str
    line: int
    setup: tuple[SetupCell, ...] = ()
    raises: str | None = None
    diagnose: str | None = None
    language: str = "python"
    file: str | None = None


def diagnosis_on(diagnose: str | None) -> bool:
    """Whether the tutor watches this cell for training-loop mistakes (``diagnose=off`` not)."""
    return diagnose != "off"


def mistakes_shown(diagnose: str | None) -> tuple[str, ...]:
    """The advice kinds a cell marked ``diagnose=A|B`` shows on purpose (so expects)."""
    if not diagnose or diagnose == "off":
        return ()
    return tuple(part.strip() for part in diagnose.split("|") if part.strip())


def expected_errors(raises: str | None) -> tuple[str, ...]:
    """The exception names of ``raises=A|B`` (a device may raise another type for the
    same mistake: CUDA says NotImplementedError where the CPU says RuntimeError)."""
    return tuple(part.strip() for part in raises.split("|") if part.strip()) if raises else ()


def raised_as_meant(raises: str | None, ename: str | None) -> bool:
    """Whether a cell marked ``raises=A|B`` raised one of them. Compared by class name
    (the sandbox reports ``OutOfMemoryError``, the lesson may write
    ``torch.cuda.OutOfMemoryError``)."""
    return bool(ename) and any(ename == name.rsplit(".", 1)[-1] for name in expected_errors(raises))


def workspace_path_problem(path: str) -> str | None:
    """What is wrong with ``path`` as the target of a ``file=`` cell, or None. It must be
    written relative to the lesson's workspace and stay inside it: no absolute path,
    no ``..``, no ``~``. (Where a path resolves, symlinks included, is checked again
    when the file is written.)"""
    if "\\" in path:
        return f"file='{path}': write paths with '/', not '\\'"
    parts = path.split("/")
    if path.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", path):
        return f"file='{path}' is absolute: write a path relative to the lesson's workspace (pkg/module.py)"
    if ".." in parts:
        return f"file='{path}' leaves the lesson's workspace ('..'): write a path inside it"
    if any(part in ("", ".") for part in parts):
        return f"file='{path}' has an empty or '.' part: write it like pkg/module.py"
    if any(ord(c) < 32 for c in path):
        return f"file={path!r} holds a control character"
    return None


@dataclass(frozen=True)
class Hint:
    text: str
    line: int


@dataclass(frozen=True)
class Exercise:
    """Starter code the learner completes; graded by the hidden ``check``.

    The check runs after the learner's code in the same namespace: it passes when it
    raises nothing, and an ``AssertionError`` message is the feedback shown.
    """

    id: str
    starter: str
    check: str
    solution: str
    line: int
    check_line: int
    solution_line: int
    hints: tuple[Hint, ...] = ()
    setup: tuple[SetupCell, ...] = ()
    diagnose: str | None = None  # as CodeCell.diagnose, for the learner's code
    language: str = "python"  # of the starter and the solution; the check is always Python
    file: str | None = None  # the learner's code is written to this workspace file


@dataclass(frozen=True)
class Quiz:
    """A question graded by ``tutor.grading``.

    With ``choices``, ``answer`` is the correct choice, or a tuple of choices (the
    learner must pick exactly that set). Without choices, ``answer`` is a free answer:
    a string, a tuple of accepted strings, or a number (with ``tolerance``).
    """

    id: str
    question: str
    answer: object
    line: int
    choices: tuple[str, ...] | None = None
    explain: str = ""
    tolerance: float | None = None
    hints: tuple[Hint, ...] = ()

    @property
    def is_choice(self) -> bool:
        return self.choices is not None

    @property
    def is_multiple(self) -> bool:
        """True when the learner must pick a set of choices."""
        return self.choices is not None and isinstance(self.answer, tuple)


Block = Union[Prose, CodeCell, Exercise, Quiz]


@dataclass(frozen=True)
class Step:
    """One ``##`` section of a lesson."""

    id: str
    title: str
    blocks: tuple[Block, ...]
    line: int

    @property
    def runnables(self) -> tuple[CodeCell | Exercise, ...]:
        return tuple(b for b in self.blocks if isinstance(b, (CodeCell, Exercise)))


@dataclass(frozen=True)
class Lesson:
    """One lesson module: one Markdown file."""

    id: str
    title: str
    path: Path
    steps: tuple[Step, ...]
    summary: str = ""
    minutes: int | None = None
    requires: tuple[str, ...] = ()
    device: str | None = None
    number: str | None = None  # the file-name prefix, e.g. "03"
    intro: str = ""  # prose before the first ``##`` heading
    id_line: int = 1  # where ``id`` is written, for errors about it
    requires_line: int = 1  # where ``requires`` is written

    @property
    def name(self) -> str:
        """``03 Computer vision``: the lesson as the learner knows it."""
        return f"{self.number} {self.title}" if self.number else self.title

    def blocks(self) -> list[Block]:
        return [b for step in self.steps for b in step.blocks]

    def cells(self) -> list[CodeCell]:
        return [b for b in self.blocks() if isinstance(b, CodeCell)]

    def exercises(self) -> list[Exercise]:
        return [b for b in self.blocks() if isinstance(b, Exercise)]

    def quizzes(self) -> list[Quiz]:
        return [b for b in self.blocks() if isinstance(b, Quiz)]

    def step_of(self, block_id: str) -> Step | None:
        for step in self.steps:
            if any(getattr(b, "id", None) == block_id for b in step.blocks):
                return step
        return None


@dataclass(frozen=True)
class LessonError:
    """A problem in a lesson file, printed as ``path:line: message``."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class ParseResult:
    """A lesson (when it could be built) and every error found in its file."""

    path: Path
    lesson: Lesson | None
    errors: tuple[LessonError, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.lesson is not None and not self.errors
