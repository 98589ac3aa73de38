"""``tutor.live`` outside the tutor, in Jupyter (an exported lesson, say).

What the cell logged and drew is shown once, when the cell ends: with matplotlib, as
figures (the curves of ``live.log``, the lines and points of ``live.plot/scatter``, the
grid of ``live.images``); without it, as a short printed summary:

    live.log: 200 points, step 0 to 199
      train_loss  1.0 -> 0.012 (lowest 0.011 at step 190)

Plain Python (no IPython kernel) gets nothing, as before: lesson code runs anywhere.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from tutor.sandbox.liveconvert import series_data, to_images, to_number


def notebook_sink():
    """The sink for the running IPython shell, or None outside IPython."""
    shell = _shell()
    if shell is None:
        return None
    sink = getattr(shell, "_tutor_live_sink", None)
    if sink is None:
        sink = NotebookSink()
        shell._tutor_live_sink = sink
        shell.events.register("post_run_cell", sink.show)
    return sink


def _shell():
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    try:
        return get() if get is not None else None
    except Exception:
        return None


class NotebookSink:
    """Collects one cell's live calls; ``show`` draws or prints them when it ends."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.metrics: dict[str, tuple[list[float], list[float]]] = {}
        self.plots: dict[str | None, dict[str | None, tuple[str, list[float], list[float]]]] = {}
        self.pictures: dict[str | None, tuple[list, int]] = {}
        self._next_step = 0

    # -- what tutor.live calls --------------------------------------------------------

    def log(self, step: Any, metrics: dict[str, Any]) -> None:
        x = self._next_step if step is None else to_number(step)
        self._next_step = int(x) + 1
        for name, value in metrics.items():
            xs, ys = self.metrics.setdefault(name, ([], []))
            xs.append(x)
            ys.append(to_number(value))

    def series(self, kind: str, x: Any, y: Any, label: str | None, title: str | None) -> None:
        xs, ys = series_data(x, y)
        self.plots.setdefault(title, {})[label] = (kind, xs, ys)

    def images(self, batch: Any, labels: Any, ncols: int, title: str | None) -> None:
        self.pictures[title] = (to_images(batch, labels), ncols)

    # -- at the end of the cell ----------------------------------------------------------

    def show(self, *args) -> None:
        try:
            if self.metrics or self.plots or self.pictures:
                try:
                    import matplotlib.pyplot as plt
                except ImportError:
                    print(self.summary())
                else:
                    self.draw(plt)
        finally:
            self.clear()

    def summary(self) -> str:
        lines = []
        if self.metrics:
            steps = sorted({x for xs, _ in self.metrics.values() for x in xs})
            lines.append(f"live.log: {len(steps)} points, step {_n(steps[0])} to {_n(steps[-1])}")
            width = max(len(name) for name in self.metrics)
            for name, (xs, ys) in self.metrics.items():
                finite = [(y, x) for x, y in zip(xs, ys) if math.isfinite(y)]
                if not finite:
                    lines.append(f"  {name:<{width}}  no finite value")
                    continue
                low, at = min(finite)
                lines.append(f"  {name:<{width}}  {_n(ys[0])} -> {_n(ys[-1])} (lowest {_n(low)} at step {_n(at)})")
        for title, series in self.plots.items():
            lines.append(f"live.plot{': ' + title if title else ''}")
            for label, (kind, xs, ys) in series.items():
                span = f", x {_n(min(xs))} to {_n(max(xs))}, y {_n(min(ys))} to {_n(max(ys))}" if xs else ""
                lines.append(f"  {label or kind}: {len(xs)} {'points' if kind == 'scatter' else 'values'}{span}")
        for title, (pictures, _) in self.pictures.items():
            labels = [p[4] for p in pictures if p[4]]
            sizes = sorted({f"{p[0]}x{p[1]}" for p in pictures})
            text = f"live.images{': ' + title if title else ''}: {len(pictures)} pictures ({', '.join(sizes)})"
            lines.append(text + (f", labels {', '.join(labels[:16])}" if labels else ""))
        lines.append("(install matplotlib to see these as charts)")
        return "\n".join(lines)

    def draw(self, plt) -> None:
        if self.metrics:
            plt.figure(figsize=(7, 3.5))
            for name, (xs, ys) in self.metrics.items():
                plt.plot(xs, ys, label=name)
            plt.xlabel("step")
            plt.legend()
            plt.show()
        for title, series in self.plots.items():
            plt.figure(figsize=(7, 3.5))
            for label, (kind, xs, ys) in series.items():
                (plt.scatter if kind == "scatter" else plt.plot)(xs, ys, label=label)
            if any(series):
                plt.legend()
            if title:
                plt.title(title)
            plt.show()
        for title, (pictures, ncols) in self.pictures.items():
            _draw_pictures(plt, pictures, ncols, title)


def _draw_pictures(plt, pictures: list, ncols: int, title: str | None) -> None:
    import numpy as np

    cols = max(1, min(ncols, len(pictures)))
    rows = -(-len(pictures) // cols)
    figure, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.5 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (width, height, mode, pixels, label) in zip(axes.flat, pictures):
        shape = (height, width, 3) if mode == "RGB" else (height, width)
        ax.imshow(np.frombuffer(pixels, dtype=np.uint8).reshape(shape), cmap=None if mode == "RGB" else "gray")
        if label:
            ax.set_title(label, fontsize=8)
    if title:
        figure.suptitle(title)
    plt.show()


def _n(value: float) -> str:
    return f"{value:.4g}"
