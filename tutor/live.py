"""Pictures from learner code: ``from tutor import live``.

- ``live.log(step=epoch, loss=..., test_loss=...)``: curves, drawn live under the cell.
- ``live.plot(x, y, label=...)`` / ``live.scatter(x, y, label=...)``: lines and points,
  e.g. predictions against the truth.
- ``live.images(batch, labels=..., ncols=8)``: a grid of sample images from tensors,
  NumPy arrays or PIL images.

Inside the tutor's worker these become events for the UI. Outside it (plain Python)
they do nothing, so lesson code runs anywhere.

NOTE: the worker side is built by the sandbox; this file fixes the public signatures.
"""

from __future__ import annotations

from typing import Any


def log(step: int | float | None = None, **metrics: float) -> None:
    """Add one point per metric to the live chart of the running cell."""


def plot(x: Any, y: Any = None, *, label: str | None = None, title: str | None = None) -> None:
    """Draw a line (``y`` against ``x``; ``y`` alone is drawn against 0..n-1)."""


def scatter(x: Any, y: Any, *, label: str | None = None, title: str | None = None) -> None:
    """Draw points; call it again with another label to compare series."""


def images(batch: Any, labels: Any = None, *, ncols: int = 8, title: str | None = None) -> None:
    """Show a grid of images: a (N, C, H, W) or (N, H, W) tensor/array, or a list of PIL images."""
