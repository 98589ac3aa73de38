"""The one chart model (app and headless) and the one thinning routine."""

from __future__ import annotations

import math
import random

from tutor.charts import MAX_POINTS, ChartBook, ChartData, SeriesData, whole_ticks
from tutor.thinning import thin, thin_points
from tutor.sandbox.events import MetricsLogged


def test_thin_keeps_the_ends_exact_and_every_segments_min_and_max():
    rng = random.Random(1)
    xs = list(range(100_000))
    ys = [rng.uniform(-1, 1) for _ in xs]
    ys[12_345], ys[67_890] = 99.0, -99.0
    tx, ty = thin(xs, ys, 200)
    assert len(tx) <= 200 and tx == sorted(tx)
    assert (tx[0], ty[0]) == (0, ys[0]) and (tx[-1], ty[-1]) == (99_999, ys[-1])
    assert max(ty) == 99.0 and min(ty) == -99.0
    assert all(ys[x] == y for x, y in zip(tx, ty))


def test_thin_leaves_short_series_alone_and_is_not_fooled_by_nan():
    assert thin([1, 2, 3], [4, 5, 6], 2) == ([1, 2, 3], [4, 5, 6])
    ys = [math.nan] * 50 + [3.0] + [math.nan] * 49
    _, ty = thin(list(range(100)), ys, 4)
    assert 3.0 in ty


def test_thin_points_keeps_a_point_whole_when_any_metric_needs_it():
    points = [(float(i), {"loss": 1.0, "acc": 0.0}) for i in range(1_000)]
    points[500] = (500.0, {"loss": 1.0, "acc": 7.0})
    kept = thin_points(points, 8)
    assert kept[0] == points[0] and kept[-1] == points[-1] and points[500] in kept and len(kept) < 20


def test_a_series_in_memory_stays_bounded_and_keeps_its_last_point():
    series = SeriesData("loss")
    for start in range(0, 50_000, 1_000):
        series.extend([float(x) for x in range(start, start + 1_000)], [1.0] * 1_000)
    assert len(series.x) <= MAX_POINTS and series.x[-1] == 49_999.0


def test_a_log_without_steps_starts_at_0_in_the_app_and_headless_alike():
    app_chart = ChartData("log")
    app_chart.add_points(((None, {"loss": 3.0}), (None, {"loss": 2.0})))
    book = ChartBook()
    book.add(MetricsLogged(1, ((None, {"loss": 3.0}), (None, {"loss": 2.0}))))
    assert app_chart.series[0].x == book.chart("log").series[0].x == [0.0, 1.0]
    assert "loss" in book.render()[0]


def test_steps_and_epochs_get_round_whole_ticks():
    assert whole_ticks([float(x) for x in range(60)], 70) == [0, 10, 20, 30, 40, 50]
    assert whole_ticks([1.0, 2.0, 3.0, 4.0, 5.0], 70) == [1, 2, 3, 4, 5]
    assert whole_ticks([float(x) for x in range(1, 1001)], 70) == [200, 400, 600, 800, 1000]
    assert whole_ticks([-7.0, 13.0], 40) == [-5, 0, 5, 10]
    assert whole_ticks([0.0, 1e12], 70) == [0, 500_000_000_000, 1_000_000_000_000]  # long labels: fewer ticks
    assert whole_ticks([0.0, 0.5, 1.0], 70) == []  # not whole: plotext's own ticks


def test_a_chart_of_steps_reads_whole_numbers_on_its_axis():
    book = ChartBook()
    book.add(MetricsLogged(1, tuple((step, {"loss": 1 / (step + 1)}) for step in range(60))))
    axis = book.render()[0].splitlines()[-2]  # the x labels, above the axis' name
    assert axis.split() == ["0", "10", "20", "30", "40", "50"]
