"""``tutor export``: a lesson as a valid nbformat v4 notebook, with the learner's edited
code, the outputs of their last runs, quizzes and hints folded, solutions only when
earned, checks left out; and the bounded store of outputs it reads."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re

import nbformat
import pytest

from tutor import config
from tutor.cell_outputs import CELL_LIMIT, TAIL, OutputRecorder, OutputStore
from tutor.cli import main
from tutor.lessons.catalog import check_paths, lesson_files
from tutor.lessons.model import CodeCell, Exercise, Quiz
from tutor.notebook import lesson_notebook
from tutor.progress import ProgressStore
from tutor.sandbox.events import (CellFailed, Frame, Image, ImagesShown, MetricsLogged, OutputCapped,
                                  OutputStreamed)

LESSONS = lesson_files(config.builtin_lessons_dir())


def load(number: str):
    [path] = [p for p in LESSONS if p.name.startswith(number)]
    [result] = check_paths([path])
    return result.lesson


def compiles(source: str) -> None:
    """Compile a notebook cell's code the way Jupyter would run it: cell magics
    (``%%writefile``, ``%%bash``) and ``!`` lines are not Python."""
    if source.startswith("%%"):
        magic = source.split("\n", 1)[0]
        assert magic.split()[0] in ("%%writefile", "%%bash"), magic
        return
    python = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("!", "%")))
    compile(python, "<cell>", "exec")


def export(number: str, tmp_path, *extra: str) -> nbformat.NotebookNode:
    target = tmp_path / f"{number}.ipynb"
    assert main(["export", number, "-o", str(target), "--force", *extra]) == 0
    notebook = nbformat.read(str(target), as_version=4)
    nbformat.validate(notebook)
    return notebook


def code_cells(notebook, block_id: str | None = None):
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    if block_id is None:
        return cells
    [cell] = [c for c in cells if c.metadata.get("tutor", {}).get("id") == block_id]
    return cell


def markdown(notebook) -> str:
    return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


# -- every lesson ------------------------------------------------------------------

@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_lesson_exports_to_a_valid_notebook_whose_code_compiles(path, tmp_path):
    [result] = check_paths([path])
    lesson = result.lesson
    notebook = export(lesson.number or lesson.id, tmp_path)
    cells = code_cells(notebook)
    for cell in cells:
        compiles(cell.source)
    ids = [c.metadata["tutor"]["id"] for c in cells if "tutor" in c.metadata]
    runnable = [b.id for b in lesson.blocks() if isinstance(b, (CodeCell, Exercise))]
    assert ids == runnable  # every cell and exercise, in order
    # each setup once, though it serves every later cell of its step
    setups = {s.line for b in lesson.blocks() if isinstance(b, (CodeCell, Exercise)) for s in b.setup}
    assert sum("tutor-setup" in c.metadata.get("tags", ()) for c in cells) == len(setups)
    text = markdown(notebook)
    for step in lesson.steps:
        assert f"## {step.title}" in text
    for quiz in lesson.quizzes():
        assert quiz.question.strip()[:40] in text
    for exercise in lesson.exercises():  # no progress: no solution, and never a check
        assert exercise.solution.strip() not in text
        assert exercise.check.strip() not in "\n".join(c.source for c in cells)
    raising = {b.id for b in lesson.blocks() if isinstance(b, CodeCell) and b.raises}
    tagged = {c.metadata["tutor"]["id"] for c in cells if "raises-exception" in c.metadata.get("tags", ())}
    assert tagged == raising


# -- the learner's work ------------------------------------------------------------------

async def run_cells(lesson, blocks, edits: dict[str, str]) -> dict[str, list[dict]]:
    """Run blocks of a lesson in the real worker (setup first), the way the app does,
    and keep each one's outputs in the store, as the app does after a run."""
    from tutor.sandbox.client import SandboxClient

    store = OutputStore.for_lesson(lesson.id)
    client = SandboxClient(workdir=config.workspace_dir(lesson.id), prewarm=False)
    await client.start()
    try:
        ran: set[int] = set()
        for block in blocks:
            for setup in block.setup:
                if setup.line in ran:  # once per worker, as the app does
                    continue
                ran.add(setup.line)
                async for _ in client.execute(setup.code, label="setup"):
                    pass
            code = edits.get(block.id) or getattr(block, "code", None) or block.starter
            recorder = OutputRecorder()
            async for event in client.execute(code, label=block.id):
                recorder.add(event)
            store.save(block.id, recorder.outputs())
    finally:
        await client.shutdown()
    return store.load_all()


@pytest.mark.slow
def test_lesson_00_after_running_a_few_cells_holds_the_learners_code_and_outputs(tmp_path):
    lesson = load("00")
    cells = lesson.cells()
    first, second, failing = cells[0], cells[1], next(c for c in cells if c.raises)
    store = ProgressStore.open()
    edited = first.code + "\nprint('my own line')\n"
    store.save_code(lesson.id, first.id, edited)
    kept = asyncio.run(run_cells(lesson, [first, second, failing], {first.id: edited}))
    assert set(kept) == {first.id, second.id, failing.id}

    notebook = export("00", tmp_path)
    one = code_cells(notebook, first.id)
    assert one.source == edited.rstrip("\n")
    [stream] = [o for o in one.outputs if o.output_type == "stream"]
    assert stream.name == "stdout" and "my own line" in stream.text
    assert code_cells(notebook, second.id).outputs
    [error] = code_cells(notebook, failing.id).outputs
    assert error.output_type == "error" and error.ename == failing.raises.split("|")[0]
    assert error.traceback[-1].startswith(f"{error.ename}: ") or any(error.ename in t for t in error.traceback)
    assert not code_cells(notebook, cells[3].id).outputs  # not run: no outputs
    assert "your last runs" in notebook.cells[0].source


@pytest.mark.slow
def test_lesson_03_after_running_a_few_cells_exports_and_compiles(tmp_path):
    lesson = load("03")
    blocks = lesson.cells()[:2]
    asyncio.run(run_cells(lesson, blocks, {}))
    notebook = export("03", tmp_path)
    for cell in code_cells(notebook):
        compiles(cell.source)
    assert all(code_cells(notebook, b.id).outputs for b in blocks)


def test_solutions_only_when_revealed_or_passed_and_quiz_answers_folded(tmp_path):
    lesson = load("00")
    first, second, third = lesson.exercises()[:3]
    store = ProgressStore.open()
    store.save_code(lesson.id, first.id, "my_answer = 42\n")
    store.record_exercise_attempt(lesson.id, first.id, True)
    store.reveal_solution(lesson.id, second.id)
    store.record_exercise_attempt(lesson.id, third.id, False)
    quiz = lesson.quizzes()[0]
    store.record_quiz_attempt(lesson.id, quiz.id, "a wrong answer", False)

    notebook = export("00", tmp_path)
    text = markdown(notebook)
    assert code_cells(notebook, first.id).source == "my_answer = 42"
    assert f"```python\n{first.solution.rstrip()}\n```" in text  # passed
    assert f"```python\n{second.solution.rstrip()}\n```" in text  # revealed
    assert third.solution.strip() not in text  # tried, not passed, not revealed
    assert "(you passed it)" in text
    assert "Your answer: `a wrong answer` (not right yet)." in text
    assert re.search(r"<details><summary>Answer</summary>\n\n`.+?\n\n</details>", text, re.DOTALL)
    hinted = next(b for b in lesson.blocks() if isinstance(b, (Exercise, Quiz)) and b.hints)
    assert f"<summary>Hint{' 1' if len(hinted.hints) > 1 else ''}</summary>\n\n{hinted.hints[0].text}" in text

    clean = export("00", tmp_path, "--clean")
    assert code_cells(clean, first.id).source == first.starter.rstrip("\n")
    assert first.solution.strip() not in markdown(clean)


def test_file_and_shell_cells_become_cell_magics():
    from tutor.notebook import cell_source

    cell = CodeCell(id="x", code="print(1)\n", line=1)
    assert cell_source(cell, None) == "print(1)\n"
    assert cell_source(cell, "print(2)\n") == "print(2)\n"

    file_cell = CodeCell(id="f", code="x = 1\n", line=1, file="going_modular/engine.py")
    assert cell_source(file_cell, None) == "%%writefile going_modular/engine.py\nx = 1\n"
    assert cell_source(CodeCell(id="s", code="python train.py\n", line=1, language="sh"), None) == (
        "%%bash\npython train.py\n")
    shell_exercise = Exercise(id="e", starter="ls ...\n", check="pass\n", solution="ls\n", line=1, check_line=3,
                              solution_line=5, language="sh")
    assert cell_source(shell_exercise, None) == "%%bash\nls ...\n"
    assert cell_source(shell_exercise, "ls -l\n") == "%%bash\nls -l\n"


# -- the command ---------------------------------------------------------------------

def test_the_command_names_its_file_and_never_overwrites_without_force(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "01"]) == 0
    lesson = load("01")
    assert (tmp_path / f"{lesson.id}.ipynb").is_file()
    assert f"wrote {lesson.id}.ipynb" in capsys.readouterr().out
    assert main(["export", "01"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["export", "01", "-o", "mine"]) == 0
    assert (tmp_path / "mine.ipynb").is_file()
    assert main(["export", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tutor: ") and err.count("\n") == 1


# -- the outputs kept for it -------------------------------------------------------------

def test_a_flood_keeps_its_head_and_tail_within_the_limit():
    recorder = OutputRecorder()
    for n in range(30_000):
        recorder.add(OutputStreamed(1, "stdout", f"line {n}\n"))
    recorder.add(OutputStreamed(1, "stderr", "warning\n"))
    outputs = recorder.outputs()
    size = sum(len(o.get("text", "")) for o in outputs)
    assert size <= CELL_LIMIT + TAIL + 200
    assert outputs[0]["text"].startswith("line 0\n")
    joined = "".join(o["text"] for o in outputs)
    assert "line 29999\n" in joined and "characters not kept" in joined
    assert any(o["name"] == "stderr" and "warning" in o["text"] for o in outputs)


def test_a_flood_is_saved_as_its_outputs_would_be_dumped(tmp_path):
    """The keeper saves the text in pieces, never joined: the file is still exactly the
    JSON of ``outputs()`` (escapes, non-ASCII, a piece bigger than the write size), and
    the tail is exactly the last ``TAIL`` characters."""
    recorder = OutputRecorder()
    recorder.add(OutputStreamed(1, "stdout", "x" * 70_000 + "\n"))  # one big piece
    for n in range(40_000):
        recorder.add(OutputStreamed(1, "stdout" if n % 7 else "stderr", f'line {n} é "q" \\ \t☃\n'))
    outputs = recorder.outputs()
    store = OutputStore(tmp_path)
    assert store.save("cell", recorder.pieces())
    assert store.path("cell").read_text(encoding="utf-8") == json.dumps({"schema": 1, "outputs": outputs})
    everything = "x" * 70_000 + "\n" + "".join(f'line {n} é "q" \\ \t☃\n' for n in range(40_000) if n % 7)
    [stdout_tail] = [o for o in outputs if o["name"] == "stdout" and "characters not kept" in o["text"]]
    assert stdout_tail["text"].endswith(everything[-TAIL:])
    assert len(stdout_tail["text"].partition(" …\n")[2]) == TAIL


def test_stream_pieces_join_and_caps_and_errors_are_kept():
    recorder = OutputRecorder()
    recorder.add(OutputStreamed(1, "stdout", "a"))
    recorder.add(OutputStreamed(1, "stdout", "b\n"))
    recorder.add(OutputCapped(1, 10, 200))
    recorder.add(CellFailed(1, "ValueError", "bad value", (Frame("cell", 2, "<module>", "f(x)"),),
                            "advice here", 2))
    stream, error = recorder.outputs()
    assert stream["text"].startswith("ab\n") and "10 lines (200 bytes)" in stream["text"]
    assert error["ename"] == "ValueError" and error["evalue"] == "bad value"
    assert error["traceback"] == ["Traceback (most recent call last):", '  File "cell", line 2, in <module>',
                                  "    f(x)", "ValueError: bad value", "", "advice here"]


def test_pictures_become_png_and_charts_text():
    from PIL import Image as PILImage

    pixels = bytes(range(256)) * 3 + bytes(16)  # 28 x 28 grey
    shown = ImagesShown(1, "samples", tuple(Image(28, 28, "L", pixels[:784], str(n)) for n in range(3)), 8)
    recorder = OutputRecorder()
    recorder.add(shown)
    recorder.add(MetricsLogged(1, ((0, {"loss": 1.0}), (1, {"loss": 0.5}))))
    picture, chart = recorder.outputs()
    png = PILImage.open(io.BytesIO(base64.b64decode(picture["data"]["image/png"])))
    assert png.format == "PNG" and png.size[0] >= 3 * 28 * 2  # three pictures, blown up
    assert "[samples: 3 images] 0, 1, 2" == picture["data"]["text/plain"]
    assert "loss" in chart["data"]["text/plain"]


def test_the_store_keeps_the_last_run_and_skips_what_it_cannot_read():
    store = OutputStore.for_lesson("demo")
    assert store.load_all() == {}
    store.save("cell-1", [{"output_type": "stream", "name": "stdout", "text": "old"}])
    store.save("cell-1", [{"output_type": "stream", "name": "stdout", "text": "new"}])
    store.save("cell-2", [])
    store.path("broken").write_text("{not json")
    store.path("future").write_text(json.dumps({"schema": 99, "outputs": []}))
    assert store.load_all() == {"cell-1": [{"output_type": "stream", "name": "stdout", "text": "new"}],
                                "cell-2": []}


def test_odd_stored_outputs_do_not_break_the_notebook():
    lesson = load("00")
    cell = lesson.cells()[0]
    odd = [{"output_type": "stream", "name": "stdout", "text": 3},
           {"output_type": "unknown"},
           {"output_type": "display_data", "data": {}}]
    notebook = lesson_notebook(lesson, None, {cell.id: odd})
    nbformat.validate(notebook)
    assert [o.output_type for o in code_cells(notebook, cell.id).outputs] == ["stream", "display_data"]
