"""tutor.live outside and inside the worker (the sink with a fake channel), the value
conversions, and the text charts of headless runs. No processes, no torch."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage

from tutor import live
from tutor.sandbox import liveconvert
from tutor.sandbox.events import Image, ImagesShown, MetricsLogged, PlotUpdated, Series
from tutor.sandbox.livesink import LiveSink
from tutor.charts import ChartBook


class FakeChannel:
    def __init__(self) -> None:
        self.sent: list[tuple[dict, bytes]] = []

    def send(self, message: dict, blob: bytes = b"") -> None:
        self.sent.append((message, blob))

    def kinds(self) -> list[str]:
        return [m["t"] for m, _ in self.sent]


@pytest.fixture
def sink(monkeypatch):
    channel = FakeChannel()
    sink = LiveSink(channel)
    monkeypatch.setattr(live, "_sink", sink)
    sink.begin(7)
    return sink


def test_outside_the_tutor_everything_is_a_no_op(monkeypatch):
    monkeypatch.setattr(live, "_sink", None)
    assert live.log(step=1, loss=0.5) is None
    live.plot([1, 2, 3])
    live.scatter([1], [2], label="x")
    live.images(np.zeros((2, 4, 4)))


def test_log_is_coalesced(sink):
    for step in range(500):
        live.log(step=step, loss=step / 10)
    sink.end()
    batches = [m for m, _ in sink.channel.sent if m["t"] == "metrics"]
    assert 1 <= len(batches) <= 5
    points = [p for m in batches for p in m["points"]]
    assert [p[0] for p in points] == list(range(500)) and points[3] == (3, {"loss": 0.3})
    assert all(m["id"] == 7 for m in batches)


def test_a_long_log_is_thinned_keeping_the_last_point_and_every_spike(sink, monkeypatch):
    from tutor.sandbox import livesink

    monkeypatch.setattr(livesink, "FULL_RATE_POINTS", 100)
    spikes = {3_333: 50.0, 7_777: -50.0}
    for step in range(10_000):
        live.log(step=step, loss=spikes.get(step, 1 / (step + 1)))
    sink.end()
    points = [p for m, _ in sink.channel.sent if m["t"] == "metrics" for p in m["points"]]
    steps = [p[0] for p in points]
    assert steps[:100] == list(range(100))  # the start at full rate
    assert len(steps) < 800  # not 10,000
    assert steps == sorted(set(steps))
    assert points[-1] == (9_999, {"loss": 1 / 10_000})  # the final value, exact
    assert (3_333, {"loss": 50.0}) in points and (7_777, {"loss": -50.0}) in points  # min and max kept


def test_a_point_without_a_step_goes_one_after_the_last_even_when_thinned(sink, monkeypatch):
    from tutor.sandbox import livesink

    monkeypatch.setattr(livesink, "FULL_RATE_POINTS", 10)
    live.log(loss=1.0)  # the first point is at 0, as live.plot(y) draws y against 0..n-1
    live.log(step=5, loss=1.0)
    for _ in range(1_000):
        live.log(loss=1.0)
    sink.end()
    steps = [p[0] for m, _ in sink.channel.sent if m["t"] == "metrics" for p in m["points"]]
    assert steps[:3] == [0, 5, 6] and steps[-1] == 1_005


def test_a_new_cell_logs_at_full_rate_again(sink, monkeypatch):
    from tutor.sandbox import livesink

    monkeypatch.setattr(livesink, "FULL_RATE_POINTS", 10)
    for step in range(100):
        live.log(step=step, loss=0.0)
    sink.end()
    sink.channel.sent.clear()
    sink.begin(8)
    for step in range(10):
        live.log(step=step, loss=0.0)
    sink.end()
    steps = [p[0] for m, _ in sink.channel.sent if m["t"] == "metrics" for p in m["points"]]
    assert steps == list(range(10))


def test_log_accepts_scalars_of_numpy():
    channel = FakeChannel()
    sink = LiveSink(channel)
    sink.begin(1)
    sink.log(np.int64(3), {"acc": np.float32(0.5)})
    sink.end()
    (message, _), = channel.sent
    assert message["points"] == [(3.0, {"acc": 0.5})]


def test_series_replace_by_label_and_send_the_whole_chart(sink):
    live.plot([0, 1], [0, 1], label="truth", title="fit")
    live.plot([0, 1], [5, 5], label="model", title="fit")
    live.plot([0, 1], [0, 2], label="model", title="fit")
    sink.end()
    last = [m for m, _ in sink.channel.sent if m["t"] == "plot"][-1]
    assert last["series"] == [["truth", [0.0, 1.0], [0.0, 1.0]], ["model", [0.0, 1.0], [0.0, 2.0]]]


def test_nothing_is_sent_between_cells(sink):
    sink.end()
    live.log(loss=1.0)
    live.plot([1, 2])
    sink.flush()
    assert sink.channel.sent == []


def test_to_floats_and_thin():
    assert liveconvert.to_floats(np.array([[1, 2], [3, 4]])) == [1.0, 2.0, 3.0, 4.0]
    assert liveconvert.to_floats((x for x in (1, 2))) == [1.0, 2.0]
    xs, ys = liveconvert.series_data(list(range(10_000)), None)
    assert len(xs) == liveconvert.MAX_POINTS and xs[0] == 0 and xs[-1] == 9_999 and ys == xs
    with pytest.raises(ValueError, match="must match"):
        liveconvert.series_data([1, 2], [1])


@pytest.mark.parametrize("batch, labels, expected", [
    (np.zeros((5, 28, 28), np.float32), None, (5, 28, 28, "L")),  # N x H x W
    (np.zeros((3, 28, 28), np.float32), ["a", "b", "c"], (3, 28, 28, "L")),
    (np.zeros((2, 3, 32, 32), np.uint8), None, (2, 32, 32, "RGB")),  # N x C x H x W
    (np.zeros((2, 1, 10, 20)), None, (2, 20, 10, "L")),
    (np.zeros((32, 32, 3), np.uint8), None, (1, 32, 32, "RGB")),  # one H x W x C
    (np.zeros((200, 100), np.uint8), None, (1, 32, 64, "L")),  # downsized to 64 on the long side
    ([PILImage.new("RGB", (8, 6)), PILImage.new("L", (8, 6))], None, (2, 8, 6, None)),
])
def test_images_from_arrays_and_pil(batch, labels, expected):
    images = liveconvert.to_images(batch, labels)
    count, width, height, mode = expected
    assert len(images) == count
    for w, h, m, pixels, _ in images:
        assert (w, h) == (width, height) and len(pixels) == w * h * (1 if m == "L" else 3)
        assert mode is None or m == mode


def test_image_values_are_scaled():
    (w, h, mode, pixels, label), = liveconvert.to_images(np.array([[[-1.0, 1.0]]]), ["x"])
    assert pixels == bytes([0, 255]) and label == "x"
    (_, _, _, pixels, _), = liveconvert.to_images(np.array([[[0.0, 0.5]]]))
    assert pixels == bytes([0, 128])


def test_images_are_capped(sink):
    live.images(np.zeros((100, 8, 8)), ncols=10, title="many")
    sink.end()
    (message, blob), = [(m, b) for m, b in sink.channel.sent if m["t"] == "images"]
    assert len(message["images"]) == liveconvert.MAX_IMAGES and len(blob) == 64 * 8 * 8
    assert message["ncols"] == 10 and message["title"] == "many"


def test_text_charts_draw_the_final_state():
    book = ChartBook()
    book.add(MetricsLogged(1, ((0, {"loss": 1.0}), (None, {"loss": 0.5}), (5, {"loss": 0.25, "acc": 0.9}))))
    book.add(PlotUpdated(1, "scatter", "fit", (Series("truth", (0, 1), (0, 1)),)))
    book.add(PlotUpdated(1, "scatter", "fit", (Series("truth", (0, 1), (0, 1)), Series("model", (0, 1), (1, 0)))))
    book.add(ImagesShown(1, "samples", (Image(2, 2, "L", bytes(4), "cat"), Image(2, 2, "L", bytes(4), "dog")), 8))
    metrics, fit, images = book.render()
    loss = book.chart("log").series[0]
    assert (loss.x, loss.y) == ([0.0, 1.0, 5.0], [1.0, 0.5, 0.25])
    assert "loss" in metrics and "acc" in metrics and "step" in metrics
    assert "fit" in fit and "model" in fit and "\x1b" not in fit
    assert images == "[samples: 2 images, 2x2 L] labels: cat, dog"
