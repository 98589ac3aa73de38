"""Charts from ``tutor.live`` drawn as plain text (plotext), for headless runs.

``ChartBook`` collects one cell's chart events; ``render()`` draws the final state.
No colour codes: the text reads the same in a terminal, a log file and a test.
"""

from __future__ import annotations

from tutor.sandbox.events import ImagesShown, MetricsLogged, PlotUpdated

WIDTH, HEIGHT = 72, 18
MARKERS = ("•", "x", "+", "o", "*", "#")


class ChartBook:
    def __init__(self) -> None:
        self.metrics: dict[str, tuple[list[float], list[float]]] = {}
        self._auto_step = 0
        self.plots: dict[tuple[str, str | None], PlotUpdated] = {}
        self.images: dict[str | None, ImagesShown] = {}

    def add(self, event) -> None:
        if isinstance(event, MetricsLogged):
            for step, values in event.points:
                if step is None:
                    step = self._auto_step
                self._auto_step = int(step) + 1
                for name, value in values.items():
                    xs, ys = self.metrics.setdefault(name, ([], []))
                    xs.append(float(step))
                    ys.append(float(value))
        elif isinstance(event, PlotUpdated):
            self.plots[(event.kind, event.title)] = event
        elif isinstance(event, ImagesShown):
            self.images[event.title] = event

    def render(self) -> tuple[str, ...]:
        charts = []
        if self.metrics:
            charts.append(_draw("line", None, [(name, xs, ys) for name, (xs, ys) in self.metrics.items()],
                                xlabel="step"))
        for (kind, title), plot in self.plots.items():
            charts.append(_draw(kind, title, [(s.label, list(s.x), list(s.y)) for s in plot.series]))
        for title, shown in self.images.items():
            charts.append(_describe_images(shown))
        return tuple(charts)


def _draw(kind: str, title: str | None, series, xlabel: str | None = None) -> str:
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(WIDTH, HEIGHT)
    plt.theme("clear")
    for n, (label, xs, ys) in enumerate(series):
        clean = [(x, y) for x, y in zip(xs, ys) if y == y]  # NaN gaps are skipped
        if not clean:
            continue
        cx, cy = zip(*clean)
        draw = plt.scatter if kind == "scatter" else plt.plot
        draw(list(cx), list(cy), label=label, marker=MARKERS[n % len(MARKERS)])
    if title:
        plt.title(title)
    if xlabel:
        plt.xlabel(xlabel)
    text = plt.uncolorize(plt.build())
    plt.clear_figure()
    return "\n".join(line.rstrip() for line in text.splitlines())


def _describe_images(shown: ImagesShown) -> str:
    title = f"{shown.title}: " if shown.title else ""
    sizes = {f"{i.width}x{i.height} {i.mode}" for i in shown.images}
    labels = [i.label for i in shown.images if i.label is not None]
    count = f"{len(shown.images)} image{'s' * (len(shown.images) != 1)}"
    text = f"[{title}{', '.join([count, *sorted(sizes)])}]"
    if labels:
        text += " labels: " + ", ".join(labels[:16]) + (" …" if len(labels) > 16 else "")
    return text
