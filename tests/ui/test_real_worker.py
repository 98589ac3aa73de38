"""The lesson screen with the real sandbox client and worker (``prewarm=False``: the
worker never imports torch), and with the sandbox's misbehaving fake workers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tutor.lessons import load_catalog
from tutor.ui.app import TutorApp, default_client_factory
from tutor.progress.background import BackgroundStore
from tutor.ui.widgets.chart_view import ChartView
from tutor.ui.widgets.status_line import StatusLine


pytestmark = pytest.mark.timeout(90)

REAL_COURSE = Path(__file__).parent / "real_course"
FAKE_WORKER = [sys.executable, str(Path(__file__).resolve().parents[1] / "fakes" / "fake_worker.py")]


def real_app(*, worker_command=None, env=None, course: Path = REAL_COURSE, lesson_id: str = "real") -> TutorApp:
    catalog = load_catalog(course)
    plain = default_client_factory(prewarm=False)

    def factory(lesson_id, on_event):
        if worker_command is None:
            return plain(lesson_id, on_event)
        from tutor import config
        from tutor.sandbox.client import SandboxClient

        return SandboxClient(workdir=config.workspace_dir(lesson_id), prewarm=False, on_event=on_event,
                             worker_command=worker_command, env=env, interrupt_grace=1.0)

    return TutorApp(catalog, BackgroundStore.open(), lesson=catalog.find(lesson_id), client_factory=factory)


async def until(pilot, condition, seconds: float = 30.0) -> None:
    """Wait (in small steps, handling messages) until ``condition()`` holds."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting")


def idle(app) -> bool:
    return app.screen.idle


async def test_a_cell_runs_in_the_real_worker(cells):
    app = real_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("f5")
        await until(pilot, lambda: idle(app) and cells(app)[0].last_status is not None)
        assert cells(app)[0].output.buffer.text() == "hello from the worker 42"
        await until(pilot, lambda: "ready" in app.screen.query_one(StatusLine).plain)
        assert "CPU" in app.screen.query_one(StatusLine).plain


async def test_a_real_error_marks_the_line(cells, focus):
    app = real_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: idle(app))
        await focus(pilot, cells(app)[1])
        await pilot.press("f5")
        await until(pilot, lambda: idle(app) and cells(app)[1].last_status is not None)
        text = cells(app)[1].output.buffer.text()
        assert "ZeroDivisionError: division by zero" in text
        assert "cell 2, line 4" in text
        assert cells(app)[1].editor.error_line == 3


async def test_interrupt_a_real_sleep_keeps_variables(cells, focus):
    app = real_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: idle(app))
        await focus(pilot, cells(app)[2])
        await pilot.press("f5")
        await until(pilot, lambda: cells(app)[2].running and app.screen.session.running_label == "cell 3")
        await until(pilot, lambda: "running cell 3" in app.screen.query_one(StatusLine).plain, 10)
        await pilot.press("f7")
        await until(pilot, lambda: idle(app) and cells(app)[2].last_status is not None, 20)
        assert cells(app)[2].last_status == "interrupted"
        assert "variables kept" in str(cells(app)[2].query_one(".cell-result").render())


async def test_live_log_draws_a_chart_from_the_real_worker(cells, focus, drawn):
    app = real_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: idle(app))
        await focus(pilot, cells(app)[3])
        await pilot.press("f5")
        await until(pilot, lambda: idle(app) and cells(app)[3].last_status is not None)
        await drawn(pilot, app)
        chart = cells(app)[3].query_one(ChartView)
        assert chart.data.point_count == 20
        assert "loss" in chart.drawn_text
        assert cells(app)[3].output.buffer.text() == "trained"


async def test_a_worker_that_cannot_start_is_reported_and_the_ui_lives_on(cells):
    app = real_app(worker_command=FAKE_WORKER, env={"FAKE_WORKER_MODE": "crash_at_start"})
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: "crashed" in app.screen.query_one(StatusLine).plain)
        assert "could not start" in app.screen.query_one(StatusLine).plain
        await pilot.press("f5")
        await until(pilot, lambda: idle(app) and cells(app)[0].last_status is not None)
        assert cells(app)[0].last_status == "crashed"
        assert "could not start" in str(cells(app)[0].query_one(".cell-result").render())


async def test_a_hung_cell_is_stopped_by_a_second_interrupt(cells):
    app = real_app(worker_command=FAKE_WORKER, env={"FAKE_WORKER_MODE": "hang"})
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("f5")
        await until(pilot, lambda: cells(app)[0].running and app.screen.runs.active is not None)
        await pilot.pause(0.2)
        await pilot.press("f7")
        await until(pilot, lambda: "interrupt" in app.screen.query_one(StatusLine).plain.lower(), 10)
        await pilot.press("f7")  # again: stop the worker now
        await until(pilot, lambda: idle(app) and cells(app)[0].last_status is not None, 20)
        assert cells(app)[0].last_status in ("killed", "interrupted")
        result = str(cells(app)[0].query_one(".cell-result").render())
        assert "variables" in result


GPU_LOST = """---
id: gpu
title: A lost GPU
---

## The cell

```python
cuda_stays_broken = True
{broken_cuda}
```

```python
print(kept)
```
"""


async def test_a_cell_that_breaks_cuda_says_the_worker_was_replaced(tmp_path, cells, focus):
    fake = Path(__file__).resolve().parents[1] / "fakes" / "broken_cuda.py"  # CUDA broken, without a GPU
    (tmp_path / "00-gpu.md").write_text(GPU_LOST.format(broken_cuda=fake.read_text()))
    app = real_app(course=tmp_path, lesson_id="gpu")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("f5")
        await until(pilot, lambda: idle(app) and cells(app)[0].last_status is not None)
        result = str(cells(app)[0].query_one(".cell-result").render())
        assert "CUDA can't go on" in result and "variables lost" in result
        text = cells(app)[0].output.buffer.text()
        assert "device-side assert" in text and "run the same code on the CPU" in text
        await until(pilot, lambda: "ready" in app.screen.query_one(StatusLine).plain)
        await focus(pilot, cells(app)[1])
        await pilot.press("f5")
        await until(pilot, lambda: idle(app) and cells(app)[1].last_status is not None)
        assert "NameError" in cells(app)[1].output.buffer.text()  # a fresh worker
