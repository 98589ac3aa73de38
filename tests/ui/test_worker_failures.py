"""Background work that fails is seen: a worker task that raises (a start, a restart), a
chart that cannot be drawn, a progress write that fails on the store's thread."""

from __future__ import annotations

from tutor.progress import ProgressStore
from tutor.progress.background import BackgroundStore
from tutor.ui.widgets.chart_view import ChartView


def failing(factory, method: str, error: Exception):
    """A client factory whose clients raise ``error`` from ``method`` (e.g. "start")."""
    def make(lesson_id, on_event):
        client = factory(lesson_id, on_event)

        async def fail(*args, **kwargs):
            raise error

        setattr(client, method, fail)
        return client

    make.clients = factory.clients
    return make


async def test_a_worker_that_cannot_start_is_reported(make_app, fake_factory, screen_text):
    broken = failing(fake_factory(), "start", RuntimeError("no python for the worker"))
    app, _ = make_app("basics", factory=broken)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        for _ in range(20):
            await pilot.pause()
        toast = [line.rsplit("▌", 1)[1].strip() for line in screen_text(app).splitlines() if "▌" in line]
        shown = " ".join(part for part in toast if part)
        assert "Starting the worker of basics failed: RuntimeError: no python for the worker" in shown


async def test_a_restart_that_fails_is_reported(make_app, fake_factory, settle):
    app, _ = make_app("basics", factory=failing(fake_factory(), "restart", OSError("no room for a new worker")))
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot, app)
        app.screen.restart_worker()
        for _ in range(10):
            await pilot.pause()
        said = [n.message for n in app._notifications]
        assert "Restarting the worker failed: OSError: no room for a new worker" in said
        assert app.is_running


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
