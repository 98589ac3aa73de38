"""Worker side of ``tutor.live``: charts and images as events, at most ~20 a second.

``log`` only appends to a deque, without a lock (it is called every step of a training
loop, where a microsecond is half a percent of lesson 01's step; a deque's append and
popleft are atomic, so the flusher thread drains it safely); the
batches go out when 50 ms have passed, from the caller or from the capture's flusher
thread, and at the end of the cell. A chart is keyed by (kind, title) and always sent
whole; a series called again with the same label replaces the old one.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from time import monotonic
from typing import Any

from tutor.thinning import thin_points
from tutor.sandbox import liveconvert
from tutor.sandbox.protocol import FrameTooLarge, FrameWriter

INTERVAL = 0.05
# Points of live.log forwarded per cell at full rate. Past that, each batch (one per
# INTERVAL at most) is thinned by tutor.charts.thin to BATCH_POINTS per metric: its
# first and last point and the lowest and highest of each stretch. So a tight loop
# logging a million steps costs the UI a few hundred points a second, not a million,
# and no spike or dip disappears. A point without a step gets one after the point
# before it (the first: 0) here, before any thinning, so thinning cannot shift it.
FULL_RATE_POINTS = 2000
BATCH_POINTS = 16


class LiveSink:
    def __init__(self, channel: FrameWriter) -> None:
        self.channel = channel
        self.request_id: int | None = None
        self._lock = threading.Lock()
        # Held while a batch is being sent: the cell's end waits for a batch that the
        # flusher thread is still encoding, so nothing it says comes after the cell.
        self._sending = threading.Lock()
        if hasattr(os, "register_at_fork"):  # a child must not inherit a lock held by a thread
            os.register_at_fork(after_in_child=self._new_locks)
        self._points: deque = deque()
        self._logged = 0  # points of this cell so far
        self._next_step = 0.0  # where a point without a step goes
        self._charts: dict[tuple[str, str | None], dict[str | None, tuple[list, list]]] = {}
        self._dirty: set[tuple[str, str | None]] = set()
        self._images: dict[str | None, dict] = {}
        self._last_sent = 0.0

    def _new_locks(self) -> None:
        self._lock, self._sending = threading.Lock(), threading.Lock()

    # -- the cell bracket ------------------------------------------------------------

    def begin(self, request_id: int) -> None:
        with self._lock:
            self.request_id = request_id
            self._points.clear()
            self._charts, self._dirty, self._images = {}, set(), {}
            self._logged, self._next_step = 0, 0.0

    def end(self) -> None:
        self.flush()
        with self._lock:
            self.request_id = None

    # -- from learner code ------------------------------------------------------------

    def log(self, step: Any, metrics: dict[str, Any]) -> None:
        if self.request_id is None:
            return
        number = liveconvert.to_number
        x = self._next_step if step is None else step if type(step) is float else number(step)
        for value in metrics.values():  # floats (``loss.item()``) as they are, the rest converted
            if type(value) is not float:
                metrics = {name: number(value) for name, value in metrics.items()}
                break
        self._next_step = x + 1
        self._logged += 1
        self._points.append((x, metrics))  # ``metrics`` is the caller's own: live.log(**metrics)
        if monotonic() - self._last_sent >= INTERVAL:
            self.flush()

    def series(self, kind: str, x: Any, y: Any, label: str | None, title: str | None) -> None:
        if self.request_id is None:
            return
        xs, ys = liveconvert.series_data(x, y)
        key = (kind, title)
        with self._lock:
            self._charts.setdefault(key, {})[label] = (xs, ys)
            self._dirty.add(key)
        if time.monotonic() - self._last_sent >= INTERVAL:
            self.flush()

    def images(self, batch: Any, labels: Any, ncols: int, title: str | None) -> None:
        if self.request_id is None:
            return
        images = liveconvert.to_images(batch, labels)
        with self._lock:
            self._images[title] = {"ncols": max(int(ncols), 1), "images": images}
        if time.monotonic() - self._last_sent >= INTERVAL:
            self.flush()

    # -- out ------------------------------------------------------------------------

    def tick(self) -> None:
        """From the flusher thread: send what waited longer than the interval."""
        if time.monotonic() - self._last_sent >= INTERVAL:
            self.flush()

    def flush(self) -> None:
        with self._sending:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            request_id = self.request_id
            queued = self._points
            points = [queued.popleft() for _ in range(len(queued))]
            full_rate = max(0, FULL_RATE_POINTS - (self._logged - len(points)))  # of this batch
            charts = [(key, list(self._charts[key].items())) for key in self._dirty]
            self._dirty = set()
            images, self._images = self._images, {}
        if request_id is None or not (points or charts or images):
            return
        self._last_sent = time.monotonic()
        send = self._send
        if points:
            points = points[:full_rate] + thin_points(points[full_rate:], BATCH_POINTS)
            send({"t": "metrics", "id": request_id, "points": points})
        for (kind, title), series in charts:
            send({"t": "plot", "id": request_id, "kind": kind, "title": title,
                  "series": [[label, xs, ys] for label, (xs, ys) in series]})
        for title, payload in images.items():
            meta = [[w, h, mode, label] for (w, h, mode, _, label) in payload["images"]]
            blob = b"".join(pixels for (_, _, _, pixels, _) in payload["images"])
            send({"t": "images", "id": request_id, "title": title, "ncols": payload["ncols"],
                  "images": meta}, blob)

    def _send(self, message: dict, blob: bytes = b"") -> None:
        """Send, or say on stderr why a chart too big for the protocol was dropped."""
        try:
            self.channel.send(message, blob)
        except FrameTooLarge as err:
            what = {"metrics": "live.log", "plot": "live.plot", "images": "live.images"}.get(message["t"], "live")
            sys.stderr.write(f"tutor: {what}: too much to draw at once ({err}); it was dropped.\n")
