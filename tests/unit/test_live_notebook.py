"""tutor.live in Jupyter (an exported lesson): shown when the cell ends, as matplotlib
figures when matplotlib is there, else as a short printed summary. A fake IPython
shell stands in for the kernel; plain Python still gets nothing."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from tutor import live


class FakeShell:
    def __init__(self) -> None:
        self.handlers: dict[str, list] = {}
        self.events = types.SimpleNamespace(register=lambda name, fn: self.handlers.setdefault(name, []).append(fn))

    def end_cell(self) -> None:
        for handler in self.handlers.get("post_run_cell", ()):
            handler(None)


@pytest.fixture
def shell(monkeypatch):
    shell = FakeShell()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # "not installed"
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    monkeypatch.setattr(live, "_sink", None)
    return shell


def test_plain_python_gets_nothing(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setattr(live, "_sink", None)
    live.log(step=0, loss=1.0)
    assert capsys.readouterr().out == ""


def test_a_cell_that_logs_prints_a_summary_when_it_ends(shell, capsys):
    for step in range(200):
        live.log(step=step, train_loss=1.0 / (step + 1), test_loss=2.0 / (step + 1) + (0.1 if step == 150 else 0))
    assert capsys.readouterr().out == ""  # nothing while the cell runs
    shell.end_cell()
    out = capsys.readouterr().out
    assert "live.log: 200 points, step 0 to 199" in out
    assert "train_loss  1 -> 0.005 (lowest 0.005 at step 199)" in out
    assert "install matplotlib" in out
    shell.end_cell()
    assert capsys.readouterr().out == ""  # shown once: the next cell starts clean
    assert len(shell.handlers["post_run_cell"]) == 1  # registered once


def test_plots_and_pictures_are_summarised(shell, capsys):
    live.plot([0, 1, 2], [3, 4, 5], label="truth", title="fit")
    live.scatter(np.array([0.5, 1.5]), np.array([3.5, 4.5]), label="preds", title="fit")
    live.images(np.zeros((3, 28, 28), dtype=np.uint8), labels=["a", "b", "c"], title="samples")
    shell.end_cell()
    out = capsys.readouterr().out
    assert "live.plot: fit" in out and "truth: 3 values, x 0 to 2, y 3 to 5" in out
    assert "preds: 2 points" in out
    assert "live.images: samples: 3 pictures (28x28), labels a, b, c" in out


def test_with_matplotlib_the_cell_draws_figures(shell, monkeypatch, capsys):
    calls = []

    class Axes:
        def axis(self, *a): calls.append("axis")
        def imshow(self, image, cmap=None): calls.append(("imshow", image.shape, cmap))
        def set_title(self, text, fontsize=None): calls.append(("title", text))

    class Flat:
        def __init__(self, n): self.flat = [Axes() for _ in range(n)]

    plt = types.SimpleNamespace(
        figure=lambda **k: calls.append("figure"), plot=lambda x, y, label=None: calls.append(("plot", label)),
        scatter=lambda x, y, label=None: calls.append(("scatter", label)), xlabel=lambda t: None,
        legend=lambda: None, title=lambda t: calls.append(("plot-title", t)), show=lambda: calls.append("show"),
        subplots=lambda r, c, **k: (types.SimpleNamespace(suptitle=lambda t: calls.append(("suptitle", t))),
                                    Flat(r * c)))
    monkeypatch.setitem(sys.modules, "matplotlib", types.SimpleNamespace(pyplot=plt))
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", plt)
    live.log(loss=1.0)
    live.log(loss=0.5)
    live.images(np.zeros((2, 8, 8), dtype=np.uint8), labels=["x", "y"])
    shell.end_cell()
    assert ("plot", "loss") in calls and calls.count("show") == 2
    assert ("imshow", (8, 8), "gray") in calls and ("title", "y") in calls
    assert capsys.readouterr().out == ""
