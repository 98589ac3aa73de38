"""Pictures from learner code: ``from tutor import live``.

- ``live.log(step=epoch, loss=..., test_loss=...)``: curves, drawn live under the cell.
- ``live.plot(x, y, label=...)`` / ``live.scatter(x, y, label=...)``: lines and points,
  e.g. predictions against the truth. Calling again with the same label replaces that
  series (so a loop can animate it); another label adds a series.
- ``live.images(batch, labels=..., ncols=8)``: a grid of sample images from tensors,
  NumPy arrays or PIL images.
- ``live.device()``: the device the tutor chose ("cuda", "mps" or "cpu").

Inside the tutor's worker these become events for the UI (at most ~20 a second), and
charts belong to the cell that draws them. In Jupyter (an exported lesson) they are
shown when the cell ends: as matplotlib figures, or a short printed summary
(``tutor.live_notebook``). In plain Python they do nothing, so lesson code runs anywhere. ``x``/``y`` may be lists, NumPy arrays or tensors on any
device.
"""

from __future__ import annotations

import os
import sys
from typing import Any

# Set by the sandbox worker (tutor.sandbox.livesink.LiveSink); None elsewhere.
_sink = None


def _outside():
    """Outside the worker: the notebook's sink in IPython, else None."""
    if "IPython" not in sys.modules:
        return None
    from tutor.live_notebook import notebook_sink

    return notebook_sink()


def log(step: int | float | None = None, **metrics: float) -> None:
    """Add one point per metric to the live chart of the running cell."""
    sink = _sink if _sink is not None else _outside()
    if sink is not None:
        sink.log(step, metrics)


def plot(x: Any, y: Any = None, *, label: str | None = None, title: str | None = None) -> None:
    """Draw a line (``y`` against ``x``; ``y`` alone is drawn against 0..n-1)."""
    sink = _sink if _sink is not None else _outside()
    if sink is not None:
        sink.series("line", x, y, label, title)


def scatter(x: Any, y: Any, *, label: str | None = None, title: str | None = None) -> None:
    """Draw points; call it again with another label to compare series."""
    sink = _sink if _sink is not None else _outside()
    if sink is not None:
        sink.series("scatter", x, y, label, title)


def images(batch: Any, labels: Any = None, *, ncols: int = 8, title: str | None = None) -> None:
    """Show a grid of images: a (N, C, H, W) or (N, H, W) tensor/array, or a list of PIL images."""
    sink = _sink if _sink is not None else _outside()
    if sink is not None:
        sink.images(batch, labels, ncols, title)


def device() -> str:
    """The device the tutor picked for this worker ("cuda", "mps" or "cpu"); outside
    the tutor, the best one torch sees."""
    chosen = os.environ.get("TUTOR_WORKER_DEVICE")
    if chosen:
        return chosen
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"
