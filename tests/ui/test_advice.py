"""The tutor's training-loop advice under a cell: the run asks for it, it shows folded
to one line per piece (first among the run's extras), unfolds with o, Enter or a
click, never stops the run, and a new run shows only its own."""

from __future__ import annotations

from pathlib import Path

from tutor.ui.widgets.advice import AdviceView

ADVISING = """\
print("training")
advise("zero-grad", 2, "`loss.backward()` and `optimizer.step()` run in the loop at line 1, but nothing zeroes the gradients.", "PyTorch adds each new gradient to the old ones.", "call `optimizer.zero_grad()` in the loop.")
advise("loss-flat", None, "the loss stayed at 0.693 for the first 100 steps.", "The model is not learning.", "check the learning rate.")
log(0, loss=1.0)
print("still training")
"""


async def test_advice_shows_folded_under_the_cell_and_unfolds(make_app, settle, cells, run_cell, screen_text):
    app, clients = make_app("charts")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        cell = cells(app)[0]
        cell.replace_code(ADVISING)
        await run_cell(pilot, app, cell)
        assert clients[0].diagnosed[-1] is True  # the app asks the worker to watch its cells
        assert "still training" in cell.output.buffer.text()  # the run went on after the advice
        view = cell.advice
        assert isinstance(view, AdviceView) and cell.extras.children[0] is view  # above the chart
        assert view.headlines == [
            "line 2: `loss.backward()` and `optimizer.step()` run in the loop at line 1, but nothing zeroes the "
            "gradients.",
            "the loss stayed at 0.693 for the first 100 steps."]
        text = screen_text(app)
        assert "▶ tip line 2: loss.backward() and optimizer.step() run in the …" in text  # cut to one row
        assert "▶ tip the loss stayed at 0.693" in text
        assert "why:" not in text and view.size.height == 2  # one line each, folded
        assert cell.last_status == "ok"  # a hint, not an error

        view.focus()
        await pilot.press("o")
        await pilot.pause()
        text = screen_text(app)
        assert "▼ tip line 2" in text
        assert "why: PyTorch adds each new gradient to the old ones." in text
        assert "fix: call optimizer.zero_grad() in the loop." in text
        await pilot.press("enter")
        await pilot.pause()
        assert "why:" not in screen_text(app)
        await pilot.click(AdviceView)
        await pilot.pause()
        assert view.unfolded


async def test_a_new_run_shows_only_its_own_advice(make_app, settle, cells, run_cell):
    app, _ = make_app("charts")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        cell = cells(app)[0]
        cell.replace_code(ADVISING)
        await run_cell(pilot, app, cell)
        await run_cell(pilot, app, cell)
        assert len(cell.query(AdviceView)) == 1 and len(cell.advice.items) == 2
        cell.replace_code("print('fixed')\n")
        await run_cell(pilot, app, cell)
        assert cell.advice is None and not cell.query(AdviceView)


async def test_the_app_keeps_each_cells_last_outputs_for_the_export(make_app, settle, cells, run_cell, tmp_path):
    from tutor.cell_outputs import OutputStore
    from tutor.cli import main

    app, _ = make_app("charts")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        first = cells(app)[0]
        first.replace_code('print("run one")\n')
        await run_cell(pilot, app, first)
        first.replace_code(ADVISING)
        await run_cell(pilot, app, first)
        pictures = cells(app)[1]
        await run_cell(pilot, app, pictures)
    kept = OutputStore.for_lesson("charts").load_all()  # the screen closed: every write is done
    outputs = kept[first.cell_id]
    assert [o["output_type"] for o in outputs] == ["stream", "display_data", "display_data", "display_data"]
    assert outputs[0]["text"] == "training\nstill training\n"  # the last run only
    assert "loss" in outputs[1]["data"]["text/plain"]  # the chart, as text
    assert outputs[2]["data"]["text/plain"].startswith("advice: line 2: `loss.backward()`")
    [picture] = kept[pictures.cell_id]
    assert "image/png" in picture["data"] and "zero, one, two, three" in picture["data"]["text/plain"]

    import nbformat

    target = tmp_path / "charts.ipynb"
    assert main(["export", "charts", "--lessons", str(app.catalog.root), "-o", str(target)]) == 0
    notebook = nbformat.read(str(target), as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code[0].source == ADVISING.rstrip("\n")  # the edit was saved with the progress
    assert code[0].outputs[0]["text"] == "training\nstill training\n"


# -- reference curves (ghosts) --------------------------------------------------------------

def save(lesson_path, found):
    from tutor import curves

    curves.sidecar_path(lesson_path).write_text(curves.to_json(found))


def course_with_curves(tmp_path, lesson_text_change=None):
    """A copy of the UI course whose charts lesson has reference curves beside it."""
    import shutil

    from tutor import curves
    from tutor.lessons import load_catalog

    COURSE = Path(__file__).parent / "course"

    course = tmp_path / "course"
    shutil.copytree(COURSE, course)
    catalog = load_catalog(course)
    lesson = catalog.find("charts")
    recorder = curves.Recorder()
    recorder.block_started(lesson.cells()[0].id)
    recorder.metrics([(step, {"loss": 2 / (step + 1), "acc": step / 40}) for step in range(50)])
    save(lesson.path, recorder.curves(lesson))
    return course


def app_on(course, fake_factory):
    from tutor.lessons import load_catalog
    from tutor.progress.background import BackgroundStore
    from tutor.ui.app import TutorApp

    catalog = load_catalog(course)
    return TutorApp(catalog, BackgroundStore.open(), lesson=catalog.find("charts"), client_factory=fake_factory())


async def test_the_live_chart_shows_the_lessons_reference_run_faintly(tmp_path, fake_factory, settle, cells,
                                                                     run_cell, drawn):
    from tutor.ui.widgets.chart_view import ChartView

    app = app_on(course_with_curves(tmp_path), fake_factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        cell = cells(app)[0]
        await run_cell(pilot, app, cell)
        await drawn(pilot, app)
        chart = cell.query_one(ChartView)
        assert "loss (cpu reference)" in chart.drawn_text and "acc (cpu reference)" in chart.drawn_text
        assert "changed" not in chart.drawn_text
        cell.replace_code(cell.code.replace("range(50)", "range(20)"))
        await run_cell(pilot, app, cell)
        await drawn(pilot, app)
        chart = cell.query_one(ChartView)
        assert "reference: the lesson's settings, not your changes" in chart.drawn_text
        assert "loss (cpu reference)" in chart.drawn_text


async def test_a_broken_reference_file_is_a_message_not_a_crash(tmp_path, fake_factory, settle, cells, run_cell,
                                                               drawn):
    from tutor import curves
    from tutor.ui.widgets.chart_view import ChartView

    course = course_with_curves(tmp_path)
    curves.sidecar_path(course / "01-charts.md").write_text("{ not json")
    app = app_on(course, fake_factory)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        assert any("reference curves are not shown" in n.message for n in app._notifications)
        await run_cell(pilot, app, cells(app)[0])
        await drawn(pilot, app)
        chart = cells(app)[0].query_one(ChartView)
        assert "loss" in chart.drawn_text and "reference" not in chart.drawn_text
