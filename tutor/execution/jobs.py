"""What runs for one block of a lesson: a :class:`Job`, the parts it sends to the worker.

    job = job_for(cell, label="cell 3")                       # a code cell as written
    job = job_for(exercise, label="exercise 4", code=edited)  # checked: code, then check

A part is one ``client.execute`` request: each hidden setup cell the block needs (run
once per worker, under its key), the block's code, and for an exercise being checked,
its hidden check. Time limits come from :class:`Limits`: the app and ``tutor run`` pass
their own, everything else is the same for both.

A new kind of block plugs in at one place: a builder in ``BUILDERS`` that turns the block
into parts. Cells and exercises in other forms differ only in the code their part sends
(``worker_code``): a ``python file=PATH`` block sends a call that writes its text into the
workspace, an ``sh`` block one that runs its text in the shell
(``tutor.sandbox.workspace``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tutor.lessons.model import CodeCell, Exercise, SetupCell, diagnosis_on

SETUP, CODE, CHECK = "setup", "code", "check"  # a part's phase


@dataclass(frozen=True)
class Limits:
    """Seconds each part may run (None: no limit). In the app the learner can stop a cell
    (F7), so cells have none; an exercise being checked runs unattended, so it has one."""

    cell: float | None = None  # a code cell, a setup cell, an exercise run as a plain cell
    exercise: float | None = 120.0  # the learner's code of an exercise being checked
    check: float | None = 30.0  # the hidden check itself

    @classmethod
    def every(cls, seconds: float | None) -> Limits:
        """One limit for every part (``tutor run --timeout S``: nobody is there to stop it)."""
        return cls(seconds, seconds, seconds)


INTERACTIVE = Limits()


@dataclass(frozen=True)
class Part:
    """One request to the worker."""

    phase: str  # SETUP, CODE or CHECK
    code: str
    label: str  # the code's name in tracebacks, e.g. "cell 3"
    line: int  # the lesson file's line of the code's first line
    timeout: float | None
    key: tuple | None = None  # a setup part runs once per worker under this key
    diagnose: bool = False  # watched for training-loop mistakes (the block's own code only)


@dataclass(frozen=True)
class Job:
    """Everything one run of a block sends to the worker, in order."""

    block_id: str
    label: str
    code: Part
    setup: tuple[Part, ...] = ()
    check: Part | None = None  # set: this run is a Check of an exercise
    raises: str | None = None  # a cell meant to fail with this exception ("read the error")

    @property
    def is_check(self) -> bool:
        return self.check is not None

    @property
    def parts(self) -> tuple[Part, ...]:
        return (*self.setup, self.code, *((self.check,) if self.check else ()))


def block_label(block, number: int) -> str:
    """The name of the ``number``-th runnable block in tracebacks and messages."""
    return f"exercise {number}" if isinstance(block, Exercise) else f"cell {number}"


def setup_parts(setups: tuple[SetupCell, ...], limits: Limits) -> tuple[Part, ...]:
    if not setups:
        return ()
    return tuple(Part(SETUP, s.code, "setup", s.line + 1, limits.cell, key=(s.line, s.code)) for s in setups)


_WORKSPACE = "__import__('tutor.sandbox.workspace', fromlist=['workspace'])"


def worker_code(block: CodeCell | Exercise, source: str, label: str) -> str:
    """What the worker runs for ``source``, the text of ``block``: Python as it is; for a
    ``file=`` block, one line that writes the text to the file; for an ``sh`` block, one
    line that runs it with ``/bin/sh`` in the workspace."""
    if block.file:
        return f"{_WORKSPACE}.write_file({block.file!r}, {source!r}, label={label!r})"
    if block.language == "sh":
        return f"{_WORKSPACE}.run_command({source!r})"
    return source


def diagnosed(block: CodeCell | Exercise) -> bool:
    """Whether the worker watches the block's code for training-loop mistakes: Python it
    runs, unless ``diagnose=off`` (a file cell is written, a shell cell is not Python)."""
    return diagnosis_on(block.diagnose) and block.language == "python" and not block.file


def _cell_job(block: CodeCell, label: str, code: str | None, code_line: int | None, check: bool,
              limits: Limits) -> Job:
    source = worker_code(block, block.code if code is None else code, label)
    return Job(block.id, label, Part(CODE, source, label, code_line or block.line + 1, limits.cell,
                                     diagnose=diagnosed(block)),
               setup_parts(block.setup, limits), raises=block.raises)


def _exercise_job(block: Exercise, label: str, code: str | None, code_line: int | None, check: bool,
                  limits: Limits) -> Job:
    source = worker_code(block, block.starter if code is None else code, label)
    line = code_line or block.line + 1
    diagnose = diagnosed(block)
    if not check:  # "run all above": the learner's code as a plain cell, not graded
        return Job(block.id, label, Part(CODE, source, label, line, limits.cell, diagnose=diagnose),
                   setup_parts(block.setup, limits))
    return Job(block.id, label, Part(CODE, source, label, line, limits.exercise, diagnose=diagnose),
               setup_parts(block.setup, limits),
               check=Part(CHECK, block.check, "check", block.check_line + 1, limits.check))


Builder = Callable[..., Job]  # (block, label, code, code_line, check, limits) -> Job
BUILDERS: dict[type, Builder] = {CodeCell: _cell_job, Exercise: _exercise_job}


def runs(block) -> bool:
    """Whether ``block`` is something the worker runs."""
    return type(block) in BUILDERS


def job_for(block, *, label: str, code: str | None = None, code_line: int | None = None, check: bool = True,
            limits: Limits = INTERACTIVE) -> Job:
    """The job that runs ``block``: its own code, or ``code`` (the learner's edit, a
    solution) whose first line is the file's ``code_line``. An exercise is checked
    unless ``check`` is False."""
    builder = BUILDERS.get(type(block))
    if builder is None:
        raise TypeError(f"a {type(block).__name__} block does not run")
    return builder(block, label, code, code_line, check, limits)
