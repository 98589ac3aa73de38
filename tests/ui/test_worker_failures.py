"""Background work that fails is seen: a worker task that raises, a chart that cannot be
drawn, a progress write that fails on the store's thread."""

from __future__ import annotations

from tutor.progress import ProgressStore
from tutor.progress.background import BackgroundStore
from tutor.ui.widgets.chart_view import ChartView


async def test_a_worker_that_cannot_start_is_reported(make_app, fake_factory, screen_text):
    factory = fake_factory()

    def broken(lesson_id, on_event):
        client = factory(lesson_id, on_event)

        async def start():
            raise RuntimeError("no python for the worker")

        client.start = start
        return client

    broken.clients = factory.clients
    app, _ = make_app("basics", factory=broken)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        for _ in range(20):
            await pilot.pause()
        toast = [line.rsplit("▌", 1)[1].strip() for line in screen_text(app).splitlines() if "▌" in line]
        shown = " ".join(part for part in toast if part)
        assert "Starting the worker of basics failed: RuntimeError: no python for the worker" in shown


async def test_a_chart_that_cannot_be_drawn_says_so_in_place(make_app, settle, cells, run_cell, monkeypatch):
    import tutor.ui.widgets.chart_view as chart_view

    def fail(*args, **kwargs):
        raise ValueError("plotext is broken")

    monkeypatch.setattr(chart_view, "draw_chart", fail)
    app, _ = make_app("charts")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        await run_cell(pilot, app, cells(app)[0])
        for _ in range(20):
            await pilot.pause()
        view = app.screen.query_one(ChartView)
        assert "Drawing a chart failed: ValueError: plotext is broken" in view.drawn_text
        assert app.is_running, "the app lives on"


def test_a_progress_write_that_fails_is_reported(tmp_path, monkeypatch):
    heard: list[str] = []
    store = BackgroundStore(ProgressStore.open(tmp_path / "progress.json"), on_failure=heard.append)

    def broken(*args):
        raise KeyError("a bug in a write")

    monkeypatch.setattr(store.store, "mark_step_seen", broken)
    store.mark_step_seen("l", "s")
    store.record_cell_run("l", "c", True)  # the next writes still go through
    store.flush()
    assert heard == ["progress not saved (mark step seen): KeyError: 'a bug in a write'"]
    assert store.lesson("l").cells_run == {"c"}
    store.close()
