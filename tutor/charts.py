"""Charts from ``tutor.live``: one model for the app and for headless runs, and one way
to thin points.

- :class:`ChartData` collects one chart of a cell: curves from ``live.log`` (points
  appended; a point without ``step`` goes one after the point before it, the first at
  0, as ``live.plot(y)`` draws y against 0..n-1) or a plot's full state from
  ``live.plot``/``live.scatter`` (replaced).
- :func:`~tutor.thinning.thin` is the one routine that drops points (the worker's
  ``live.log`` stream, a plot's series, a long curve kept in memory, a drawing): the
  first and the last point stay exact, and each thinned segment keeps its lowest and
  highest point. It lives in ``tutor/thinning.py`` so that the worker needs no more.
- :func:`draw_chart` draws a chart with plotext: with colours in the app, plain text
  headless. plotext keeps global state, hence the lock: drawing may run in a thread.
- :class:`ChartBook` is one cell's charts in a headless run (``tutor run``, exports).
- A ``live.log`` chart may carry a ghost (``tutor.curves``): the lesson's reference run
  of the cell, drawn first and faint (grey in the app, its own marker as text), with a
  note when the learner changed the cell or logs other metrics.

Pure: no UI here, and plotext is imported only when a chart is drawn.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

from tutor.curves import Ghost, mismatch
from tutor.sandbox.events import ImagesShown, MetricsLogged, PlotUpdated
from tutor.thinning import thin

MAX_POINTS = 4_000  # a series kept in memory; past it, thinned to half (min/max kept)
_PLOTEXT_LOCK = threading.Lock()
COLORS = ("cyan", "orange", "green", "magenta", "blue", "red", "yellow", "gray")
MARKERS = ("•", "x", "+", "o", "*", "#")  # plain text: series told apart without colours
GHOST_COLOR = (96, 96, 96)  # the reference run: faint, behind the learner's curves
GHOST_MARKER = "·"
TEXT_WIDTH, TEXT_HEIGHT = 72, 18  # a headless chart


# -- the model ------------------------------------------------------------------------------


@dataclass
class SeriesData:
    label: str | None
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)

    def extend(self, xs: list[float], ys: list[float]) -> None:
        self.x.extend(xs)
        self.y.extend(ys)
        if len(self.x) > MAX_POINTS:  # long runs stay bounded
            self.x, self.y = thin(self.x, self.y, MAX_POINTS // 2)


@dataclass
class ChartData:
    """Everything one chart shows; ``version`` grows with every change."""

    key: str
    kind: str = "line"  # line | scatter
    title: str | None = None
    series: list[SeriesData] = field(default_factory=list)
    version: int = 0
    next_step: float = 0.0  # where a ``live.log`` point without a step goes
    ghost: Ghost | None = None  # the lesson's reference run of this cell (live.log charts)

    def add_points(self, points) -> None:
        """``live.log`` points: ``(step or None, {metric: value})`` each."""
        columns: dict[str, tuple[list, list]] = {}
        for step, metrics in points:
            x = float(step) if step is not None else self.next_step
            self.next_step = x + 1
            for name, value in metrics.items():
                column = columns.get(name)
                if column is None:
                    column = columns[name] = ([], [])
                column[0].append(x)
                column[1].append(float(value))
        by_label = {s.label: s for s in self.series}
        for name, (xs, ys) in columns.items():
            series = by_label.get(name)
            if series is None:
                series = by_label[name] = SeriesData(name)
                self.series.append(series)
            series.extend(xs, ys)
        self.version += 1

    def replace(self, kind: str, title: str | None, series) -> None:
        """A ``live.plot``/``live.scatter`` update: the chart's full current state."""
        self.kind = kind
        self.title = title
        self.series = [SeriesData(s.label, list(s.x), list(s.y)) for s in series]
        self.version += 1

    def snapshot(self) -> ChartData:
        """A copy that a drawing thread can read while new points arrive."""
        return ChartData(self.key, self.kind, self.title,
                         [SeriesData(s.label, list(s.x), list(s.y)) for s in self.series], self.version,
                         self.next_step, self.ghost)

    def ghost_series(self) -> tuple[list[SeriesData], str | None]:
        """The reference curves to draw (those of metrics this run logs too, so the
        learner compares like with like), and the note to show with them."""
        ghost = self.ghost
        if ghost is None:
            return [], None
        logged = {s.label for s in self.series}
        shown = [SeriesData(f"{name} ({ghost.device} reference)", [x for x, _ in points], [y for _, y in points])
                 for name, points in ghost.metrics.items() if name in logged]
        return shown, mismatch(ghost, logged) or (ghost.note if shown else None)

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


def _finite(xs: list[float], ys: list[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys) if math.isfinite(x) and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def whole_ticks(xs: list[float], width: int) -> list[int]:
    """Round ticks (1, 2 or 5 times a power of ten apart) for an axis of whole numbers,
    such as steps or epochs: plotext's own read 0.0, 14.8, 29.5. Empty when the values
    are not all whole."""
    if not xs or any(x != int(x) for x in xs):
        return []
    low, high = int(min(xs)), int(max(xs))
    room = max(10, len(str(low)) + 3, len(str(high)) + 3)  # columns from one label to the next
    most = max(2, width // room)
    gap = next(g for g in _round_gaps() if (high - low) / g <= most)
    first = -(-low // gap) * gap  # the first multiple of the gap at or above the lowest value
    return list(range(first, high + 1, gap))


def _round_gaps():
    """1, 2, 5, 10, 20, 50, ..."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            yield factor * power
        power *= 10


def draw_chart(chart: ChartData, width: int, height: int, *, color: bool = True, xlabel: str | None = None) -> str:
    """The chart as ``width`` x ``height`` cells of text: with ANSI colours, or plain
    (series told apart by their markers)."""
    import plotext as plt  # 0.05 s: only once a chart exists

    width, height = max(width, 20), max(height, 6)
    with _PLOTEXT_LOCK:
        plt.clf()
        plt.plotsize(width, height)
        plt.theme("pro" if color else "clear")
        drawn = 0
        ghosts, note = chart.ghost_series()
        for series in ghosts:  # first: the learner's curves are drawn over them
            xs, ys = _finite(*thin(series.x, series.y, width * 2))
            if xs:
                if color:
                    plt.plot(xs, ys, label=series.label, color=GHOST_COLOR, marker="braille")
                else:
                    plt.plot(xs, ys, label=series.label, marker=GHOST_MARKER)
        for index, series in enumerate(chart.series):
            xs, ys = _finite(*thin(series.x, series.y, width * 2))
            if not xs:
                continue
            draw = plt.scatter if chart.kind == "scatter" else plt.plot
            if color:
                draw(xs, ys, label=series.label, color=COLORS[index % len(COLORS)], marker="hd")
            else:
                draw(xs, ys, label=series.label, marker=MARKERS[index % len(MARKERS)])
            drawn += 1
        xs_drawn = [x for series in (*ghosts, *chart.series) for x in series.x if math.isfinite(x)]
        ticks = whole_ticks(xs_drawn, width)
        if ticks:
            plt.xticks(ticks, [str(t) for t in ticks])
        title = " · ".join(t for t in (chart.title, note) if t)
        if len(title) > width - 12:  # plotext leaves out a title that does not fit
            title = title[:width - 13] + "…"
        if title:
            plt.title(title)
        if xlabel:
            plt.xlabel(xlabel)
        if not drawn:
            return "(waiting for points)"
        text = plt.build()
        plt.clf()
    if color:
        return text
    return "\n".join(line.rstrip() for line in plt.uncolorize(text).splitlines())


# -- headless ---------------------------------------------------------------------------------


class ChartBook:
    """One cell's charts in a headless run: ``add`` each event, ``render`` the final state."""

    def __init__(self, ghost: Ghost | None = None) -> None:
        self.charts: dict[str, ChartData] = {}
        self.images: dict[str | None, object] = {}  # title -> the latest ImagesShown
        self.ghost = ghost  # the reference run of the cell, for its live.log chart

    def add(self, event) -> None:
        if isinstance(event, MetricsLogged):
            self.chart("log").add_points(event.points)
        elif isinstance(event, PlotUpdated):
            self.chart(f"plot:{event.title or ''}").replace(event.kind, event.title, event.series)
        elif isinstance(event, ImagesShown):
            self.images[event.title] = event

    def chart(self, key: str) -> ChartData:
        """The chart under ``key`` (``log``, or ``plot:TITLE``), made when first used."""
        if key not in self.charts:
            self.charts[key] = ChartData(key, ghost=self.ghost if key == "log" else None)
        return self.charts[key]

    def render(self) -> tuple[str, ...]:
        charts = [draw_chart(chart, TEXT_WIDTH, TEXT_HEIGHT, color=False, xlabel="step" if key == "log" else None)
                  for key, chart in self.charts.items()]
        charts.extend(describe_images(shown) for shown in self.images.values())
        return tuple(charts)


def describe_images(shown) -> str:
    """``[samples: 2 images, 2x2 L] labels: cat, dog``: a picture grid as a line of text."""
    title = f"{shown.title}: " if shown.title else ""
    sizes = {f"{i.width}x{i.height} {i.mode}" for i in shown.images}
    labels = [i.label for i in shown.images if i.label is not None]
    count = f"{len(shown.images)} image{'s' * (len(shown.images) != 1)}"
    text = f"[{title}{', '.join([count, *sorted(sizes)])}]"
    if labels:
        text += " labels: " + ", ".join(labels[:16]) + (" …" if len(labels) > 16 else "")
    return text
