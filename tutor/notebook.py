"""A lesson as a Jupyter notebook (nbformat v4), with the learner's work in it.

    nb = lesson_notebook(lesson, progress, outputs)   # progress and outputs may be None/{}
    nbformat.validate(nb); nbformat.write(nb, path)

What goes in:
- prose as markdown (a step's heading starts its first markdown cell);
- hidden setup code as code cells tagged ``tutor-setup`` (the notebook must run);
- each cell's code: the learner's edit, else the lesson's; with the outputs of the
  learner's last run where the tutor kept them (``tutor.cell_outputs``);
- ``raises=`` cells tagged ``raises-exception`` (Jupyter's "run all" goes on past them);
- exercises: the learner's code, hints in ``<details>``, and the solution only when it
  was revealed or the exercise passed; the hidden checks are left out;
- quizzes as markdown, the answer and its explanation folded in ``<details>``.
"""

from __future__ import annotations

import datetime
import html

from tutor import __version__
from tutor.lessons.model import CodeCell, Exercise, Hint, Lesson, Prose, Quiz, SetupCell

KERNEL = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
          "language_info": {"name": "python"}}


def lesson_notebook(lesson: Lesson, progress=None, outputs: dict[str, list[dict]] | None = None,
                    *, today: datetime.date | None = None):
    """The notebook of ``lesson``; ``progress`` is its ``LessonProgress`` (or None)."""
    from nbformat import v4

    outputs = outputs or {}
    code = dict(getattr(progress, "code", None) or {})
    exercises = getattr(progress, "exercises", None) or {}
    quizzes = getattr(progress, "quizzes", None) or {}
    cells = [v4.new_markdown_cell(_title(lesson, today or datetime.date.today(), bool(code or outputs)))]
    pending: list[str] = []  # markdown waiting to become one cell

    def markdown(text: str) -> None:
        if text.strip():
            pending.append(text.strip())

    def flush() -> None:
        if pending:
            cells.append(v4.new_markdown_cell("\n\n".join(pending)))
            pending.clear()

    def code_cell(source: str, block_id: str | None, tags: list[str]) -> None:
        flush()
        cell = v4.new_code_cell(source.rstrip("\n"))
        if tags:
            cell.metadata["tags"] = tags
        if block_id:
            cell.metadata["tutor"] = {"id": block_id}
            cell.outputs = [_output(o) for o in outputs.get(block_id, ()) if _usable(o)]
        cells.append(cell)

    exported: set[int] = set()  # a setup serves every later cell of its step: written once

    def setups(setup: tuple[SetupCell, ...]) -> None:
        for part in setup:
            if part.line in exported:
                continue
            exported.add(part.line)
            code_cell("# setup (the tutor runs this for you, hidden)\n" + part.code, None, ["tutor-setup"])

    for step in lesson.steps:
        markdown(f"## {step.title}")
        for block in step.blocks:
            if isinstance(block, Prose):
                markdown(block.text)
            elif isinstance(block, CodeCell):
                setups(block.setup)
                tags = ["raises-exception"] if block.raises else []
                code_cell(cell_source(block, code.get(block.id)), block.id, tags)
            elif isinstance(block, Exercise):
                record = exercises.get(block.id)
                passed = bool(record and record.passed)
                markdown("**Exercise**" + (" (you passed it)" if passed else "") +
                         ": complete the code below (the tutor checks it; here, run it and read what it prints).")
                setups(block.setup)
                code_cell(cell_source(block, code.get(block.id) or None), block.id, ["exercise"])
                markdown(_hints(block.hints))
                if record and (record.passed or record.solution_revealed):
                    markdown(_details("Solution", f"```{block.language}\n{block.solution.rstrip()}\n```"))
            elif isinstance(block, Quiz):
                markdown(_quiz(block, quizzes.get(block.id)))
        flush()
    nb = v4.new_notebook(cells=cells, metadata=dict(KERNEL))
    nb.metadata["tutor"] = {"lesson": lesson.id, "version": __version__}
    return nb


def cell_source(block: CodeCell | Exercise, edited: str | None) -> str:
    """The code of a cell or exercise as a notebook runs it (the learner's ``edited``
    code, else the lesson's): ``file=`` blocks write their file (``%%writefile``),
    shell blocks run in bash (``%%bash``)."""
    if edited is not None:
        source = edited
    else:
        source = block.code if isinstance(block, CodeCell) else block.starter
    if block.file:
        return f"%%writefile {block.file}\n{source}"
    if block.language == "sh":
        return f"%%bash\n{source}"
    return source


def _title(lesson: Lesson, today: datetime.date, learner: bool) -> str:
    parts = [f"# {lesson.title}"]
    if lesson.summary:
        parts.append(f"*{lesson.summary}*")
    parts.append(f"Exported from tutor {__version__} on {today.isoformat()}"
                 + (": the code is yours where you edited it, and the outputs are from your last runs."
                    if learner else ": the lesson's code, not run yet.")
                 + " The cells use `tutor.live` and the course's data helpers: run it with a Python "
                   "that has the tutor installed (its `.venv`, say).")
    if lesson.intro.strip():
        parts.append(lesson.intro.strip())
    return "\n\n".join(parts)


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{html.escape(summary)}</summary>\n\n{body.strip()}\n\n</details>"


def _hints(hints: tuple[Hint, ...]) -> str:
    many = len(hints) > 1
    return "\n\n".join(_details(f"Hint {n}" if many else "Hint", hint.text)
                       for n, hint in enumerate(hints, 1))


def _answer_text(answer) -> str:
    if isinstance(answer, tuple):
        return ", ".join(f"`{a}`" for a in answer)
    return f"`{answer}`"


def _quiz(quiz: Quiz, record) -> str:
    parts = [f"**Quiz:** {quiz.question.strip()}"]
    if quiz.choices:
        parts.append("\n".join(f"- {choice}" for choice in quiz.choices))
    hints = _hints(quiz.hints)
    if hints:
        parts.append(hints)
    if record is not None and record.last_answer is not None:
        verdict = "right" if record.correct else "not right yet"
        parts.append(f"Your answer: `{record.last_answer}` ({verdict}).")
    lead = ("All of: " if quiz.is_multiple else "Any of: ") if isinstance(quiz.answer, tuple) else ""
    answer = lead + _answer_text(quiz.answer)
    parts.append(_details("Answer", f"{answer}\n\n{quiz.explain}".strip()))
    return "\n\n".join(parts)


def _usable(output: dict) -> bool:
    return output.get("output_type") in ("stream", "error", "display_data")


def _output(output: dict):
    from nbformat import v4

    kind = output["output_type"]
    if kind == "stream":
        return v4.new_output("stream", name=str(output.get("name", "stdout")), text=str(output.get("text", "")))
    if kind == "error":
        return v4.new_output("error", ename=str(output.get("ename", "")), evalue=str(output.get("evalue", "")),
                             traceback=[str(line) for line in output.get("traceback", ())])
    data = {str(k): str(v) for k, v in dict(output.get("data") or {}).items()}
    return v4.new_output("display_data", data=data or {"text/plain": ""})
