"""Live charts (plotext, coalesced) and image grids (half blocks) under a cell."""

from __future__ import annotations

import time

from tutor.sandbox.events import Image
from tutor.charts import ChartData, draw_chart
from tutor.ui.widgets.chart_view import ChartView
from tutor.ui.widgets.image_grid import ImageGrid, scale_image


def test_chart_data_collects_logged_points_by_metric():
    chart = ChartData("log:")
    chart.add_points(((1, {"loss": 2.0, "acc": 0.1}), (2, {"loss": 1.0})))
    chart.add_points(((None, {"acc": 0.5}),))
    assert [(s.label, s.x, s.y) for s in chart.series] == [
        ("loss", [1.0, 2.0], [2.0, 1.0]), ("acc", [1.0, 3.0], [0.1, 0.5])]  # no step: one after the last
    assert chart.summary() == "loss 1 · acc 0.5"


def test_drawing_thins_long_curves_and_skips_nan():
    chart = ChartData("log:")
    chart.add_points(tuple((i, {"loss": 1 / (i + 1)}) for i in range(100_000)))
    chart.add_points(((100_001, {"loss": float("nan")}),))
    started = time.perf_counter()
    text = draw_chart(chart, 60, 12)
    assert time.perf_counter() - started < 2.0
    assert "loss" in text and "┤" in text


def test_scale_image_keeps_the_aspect():
    image = Image(4, 2, "L", bytes([0, 85, 170, 255] * 2), None)
    width, height, rows = scale_image(image, 2)
    assert (width, height) == (2, 1)
    assert rows[0][0] == (0, 0, 0) and rows[0][1] == (170, 170, 170)


def test_scale_image_blows_up_tiny_pictures():
    image = Image(2, 2, "L", bytes([0, 255, 255, 0]), None)
    width, height, rows = scale_image(image, 6)
    assert (width, height) == (6, 6)
    assert rows[0] == [(0, 0, 0)] * 3 + [(255, 255, 255)] * 3
    assert rows[5] == [(255, 255, 255)] * 3 + [(0, 0, 0)] * 3


def test_grid_layout_upscales_small_and_wraps_rather_than_shrinks():
    letters = [Image(5, 5, "L", bytes(25), "letter")] * 2
    assert ImageGrid(None, letters, 2)._layout(78) == (2, 20)  # 5 px shown 4x
    digits = [Image(28, 28, "L", bytes(28 * 28), str(i)) for i in range(8)]
    ncols, cell = ImageGrid(None, digits, 8)._layout(76)
    assert cell >= 14 and ncols * cell + (ncols - 1) <= 76  # fewer columns, legible pictures
    assert ImageGrid(None, digits, 8)._layout(300) == (8, 28)  # room for all: native size


async def test_a_training_cell_draws_a_live_chart(make_app, settle, cells, screen_text, drawn):
    app, _ = make_app("charts")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("f5")
        await settle(pilot, app)
        await drawn(pilot, app)
        chart = cells(app)[0].query_one(ChartView)
        assert chart.data.point_count == 100
        assert "loss" in chart.drawn_text and "acc" in chart.drawn_text
        assert "┤" in chart.drawn_text  # an axis, drawn by plotext
        assert "loss" in screen_text(app)


async def test_chart_redraws_are_coalesced(make_app, monkeypatch, settle, cells, drawn):
    app, _ = make_app("charts")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("f5")
        await settle(pilot, app)
        await drawn(pilot, app)
        chart = cells(app)[0].query_one(ChartView)
        draws = []
        monkeypatch.setattr("tutor.ui.widgets.chart_view.draw_chart",
                            lambda data, w, h: draws.append(data.version) or "drawn")
        for step in range(200):  # 200 updates within a few milliseconds
            chart.data.add_points(((1000 + step, {"loss": 0.5}),))
            chart.data_changed()
        await drawn(pilot, app)
        assert len(draws) <= 2, "a burst of points is drawn at most once or twice"
        await pilot.pause(ChartView.INTERVAL + 0.1)
        await drawn(pilot, app)
        assert draws and draws[-1] == chart.data.version, "the last points are drawn"


async def test_a_narrow_chart_is_a_summary_line(make_app, settle, cells, drawn):
    app, _ = make_app("charts")
    async with app.run_test(size=(40, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("f5")
        await settle(pilot, app)
        await drawn(pilot, app)
        chart = cells(app)[0].query_one(ChartView)
        assert chart.drawn_text.startswith("chart: loss 0.02")


async def test_images_are_drawn_with_half_blocks_and_labels(make_app, settle, cells, run_cell, screen_text):
    app, _ = make_app("charts")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        await run_cell(pilot, app, cells(app)[1])
        grid = cells(app)[1].query_one(ImageGrid)
        text = screen_text(app)
        assert "▀" * 8 in text
        assert "zero" in text and "three" in text
        assert grid.size.height == 1 + 8 + 1  # title, 8 pixels shown 2x: 16 rows in 8 text rows, labels


async def test_a_flood_of_lines_is_folded_and_keys_still_work(make_app, settle, cells, run_cell, screen_text):
    app, _ = make_app("charts")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        flood_cell = cells(app)[2]
        await run_cell(pilot, app, flood_cell)
        assert flood_cell.output.buffer.total_lines == 100_000
        assert "lines above" in screen_text(app) and "line 99999" in screen_text(app)
        await pilot.press("f6")  # still responsive: runs and moves on
        await settle(pilot, app)
        assert app.screen.current is cells(app)[3]


async def test_a_new_drawing_repaints_the_chart_without_laying_out_the_page(make_app, monkeypatch, settle, cells, drawn, screen_text):
    app, _ = make_app("charts")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("f5")
        await settle(pilot, app)
        await drawn(pilot, app)
        chart = cells(app)[0].query_one(ChartView)
        screen = app.screen
        layouts = []
        original = type(screen)._refresh_layout
        monkeypatch.setattr(type(screen), "_refresh_layout",
                            lambda self, *a, **k: layouts.append(1) or original(self, *a, **k))
        chart.data.add_points(((1000, {"loss": 3.0, "acc": 0.5}),))  # a new maximum: the axis changes
        chart.data_changed(now=True)
        await drawn(pilot, app)
        await pilot.pause()
        assert "3.00" in chart.drawn_text and "3.00" in screen_text(app)
        assert layouts == []
