"""Chart data of one cell, and drawing it as ANSI text with plotext (no Textual here).

A :class:`ChartData` collects what ``tutor.live`` sent: curves from ``live.log``
(points appended) or a plot's full state from ``live.plot``/``live.scatter`` (replaced).
:func:`draw_chart` turns a snapshot into text; it downsamples to the width first, so a
curve of 10^5 steps costs the same as one of 200. plotext keeps global state, hence
the lock: drawing may run in a thread.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

MAX_POINTS = 20_000  # per series; older points are thinned, never the newest
_PLOTEXT_LOCK = threading.Lock()
COLORS = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "gray")


@dataclass
class SeriesData:
    label: str | None
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    count: int = 0  # points ever added (thinning drops some; steps of None count on)

    def extend(self, xs: list[float], ys: list[float]) -> None:
        self.count += len(xs)
        self.x.extend(xs)
        self.y.extend(ys)
        if len(self.x) > MAX_POINTS:
            # Keep every other point of the older half: long runs stay bounded.
            half = len(self.x) // 2
            self.x[:half] = self.x[:half:2]
            self.y[:half] = self.y[:half:2]


@dataclass
class ChartData:
    """Everything one chart shows; ``version`` grows with every change."""

    key: str
    kind: str = "line"  # line | scatter
    title: str | None = None
    series: list[SeriesData] = field(default_factory=list)
    version: int = 0

    def add_points(self, points) -> None:
        """``live.log`` points: ``(step or None, {metric: value})`` each."""
        columns: dict[str, tuple[list, list]] = {}
        for step, metrics in points:
            for name, value in metrics.items():
                column = columns.get(name)
                if column is None:
                    column = columns[name] = ([], [])
                column[0].append(step)
                column[1].append(value)
        by_label = {s.label: s for s in self.series}
        for name, (steps, values) in columns.items():
            series = by_label.get(name)
            if series is None:
                series = by_label[name] = SeriesData(name)
                self.series.append(series)
            start = series.count + 1
            xs = [float(step) if step is not None else float(start + i) for i, step in enumerate(steps)]
            series.extend(xs, [float(v) for v in values])
        self.version += 1

    def replace(self, kind: str, title: str | None, series) -> None:
        """A ``live.plot``/``live.scatter`` update: the chart's full current state."""
        self.kind = kind
        self.title = title
        self.series = [SeriesData(s.label, list(s.x), list(s.y)) for s in series]
        self.version += 1

    def snapshot(self) -> "ChartData":
        """A copy that a drawing thread can read while new points arrive."""
        return ChartData(self.key, self.kind, self.title,
                         [SeriesData(s.label, list(s.x), list(s.y)) for s in self.series], self.version)

    @property
    def point_count(self) -> int:
        return sum(len(s.x) for s in self.series)

    def summary(self) -> str:
        """One line for narrow screens and headless logs: the last value of each series."""
        parts = []
        for s in self.series:
            finite = [v for v in s.y if math.isfinite(v)]
            if finite:
                parts.append(f"{s.label or 'y'} {finite[-1]:.4g}")
        return " · ".join(parts)


def _thin(xs: list[float], ys: list[float], limit: int) -> tuple[list[float], list[float]]:
    """At most about ``limit`` points, evenly strided, the last point always kept."""
    n = len(xs)
    if n <= limit:
        return xs, ys
    stride = math.ceil(n / limit)
    tx, ty = xs[::stride], ys[::stride]
    if (n - 1) % stride:
        tx.append(xs[-1])
        ty.append(ys[-1])
    return tx, ty


def _finite(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def draw_chart(chart: ChartData, width: int, height: int, *, color: bool = True) -> str:
    """The chart as text with ANSI colours, ``width`` x ``height`` cells."""
    import plotext as plt  # 0.05 s: only once a chart exists

    width, height = max(width, 20), max(height, 6)
    with _PLOTEXT_LOCK:
        plt.clf()
        plt.plotsize(width, height)
        plt.theme("pro" if color else "clear")
        drawn = 0
        for index, series in enumerate(chart.series):
            xs, ys = _finite(*_thin(series.x, series.y, width * 2))
            if not xs:
                continue
            draw = plt.scatter if chart.kind == "scatter" else plt.plot
            draw(xs, ys, label=series.label, color=COLORS[index % len(COLORS)], marker="hd")
            drawn += 1
        if chart.title:
            plt.title(chart.title)
        if not drawn:
            return "(waiting for points)"
        return plt.build()
