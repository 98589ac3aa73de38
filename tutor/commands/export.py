"""``tutor export LESSON [-o FILE.ipynb]``: the lesson as a Jupyter notebook, with the
learner's edited code and the outputs of their last runs (``tutor.notebook``).

The notebook is validated against the nbformat v4 schema before anything is written;
an existing file is replaced only with ``--force``.
"""

from __future__ import annotations

from pathlib import Path

from tutor.cell_outputs import OutputStore
from tutor.commands.common import add_course_option, find_lesson, open_catalog
from tutor.commands.progress_view import open_store
from tutor.errors import UserError


def add_arguments(parser) -> None:
    parser.add_argument("lesson", help="the lesson: a number (03), an id, or a path to a .md file")
    parser.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: LESSON-ID.ipynb here)")
    parser.add_argument("--force", action="store_true", help="replace FILE if it exists")
    parser.add_argument("--clean", action="store_true",
                        help="the lesson's own code, without your edits, outputs or revealed solutions")
    add_course_option(parser)


def run(args) -> int:
    import nbformat

    from tutor.notebook import lesson_notebook

    lesson = find_lesson(open_catalog(args.lessons), args.lesson)
    target = Path(args.output).expanduser() if args.output else Path(f"{lesson.id}.ipynb")
    if target.suffix != ".ipynb":
        target = target.with_name(target.name + ".ipynb")
    if target.exists() and not args.force:
        raise UserError(f"{target} exists: choose another name with -o, or replace it with --force")
    if args.clean:
        progress, outputs = None, {}
    else:
        progress = open_store().lesson(lesson.id)
        outputs = OutputStore.for_lesson(lesson.id).load_all()
    notebook = lesson_notebook(lesson, progress, outputs)
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as err:  # a bug of ours, said in one line
        raise UserError(f"the notebook for {lesson.id} did not validate: {err.message}", exit_code=1) from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(target))
    except OSError as err:
        raise UserError(f"cannot write {target}: {err.strerror or err}", exit_code=1) from None
    code_cells = sum(1 for cell in notebook.cells if cell.cell_type == "code")
    with_output = sum(1 for cell in notebook.cells if cell.cell_type == "code" and cell.outputs)
    print(f"wrote {target}: {lesson.title}, {len(notebook.cells)} cells ({code_cells} code, "
          f"{with_output} with your outputs)")
    return 0
