"""When a dead worker is started again, and when the client gives up. Stdlib only.

The client's crash and restart policy, apart from the mechanics (like jupyter_client's
``KernelRestarter``): ``restart_limit`` deaths in a row that were not a cell's doing
stop the restarts; a worker that stayed up ``stable_start_time`` seconds after it was
ready resets the count.

- A death while a cell runs (a segfault, ``os._exit``, a memory kill) is the cell's
  doing: the worker is always started again, at once, and nothing is counted.
- A death before the worker was ready is a failed start: it is counted, and the next
  try waits a little longer (0.5 s, 1 s, ...).
- A death of an idle worker (nothing running) is counted too, unless the worker had
  been up for ``stable_start_time``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

RESTART_LIMIT = 3
STABLE_START_TIME = 60.0
BACKOFF = 0.5  # seconds more to wait before each further try after a failed start


@dataclass(frozen=True)
class Verdict:
    """What to do about a death: start again after ``delay`` seconds, or give up
    (``restart`` false) with ``reason`` saying why, in words for the learner."""

    restart: bool
    delay: float = 0.0
    reason: str | None = None


class RestartPolicy:
    def __init__(self, restart_limit: int = RESTART_LIMIT, stable_start_time: float = STABLE_START_TIME,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.restart_limit = restart_limit
        self.stable_start_time = stable_start_time
        self.clock = clock
        self.failed_starts = 0  # deaths before ready, in a row
        self.idle_deaths = 0  # deaths of an idle worker, in a row
        self._ready_at: float | None = None

    def reset(self) -> None:
        """The learner asked for a restart: try again from scratch."""
        self.failed_starts = self.idle_deaths = 0
        self._ready_at = None

    def ready(self) -> None:
        """The worker is ready: its start did not fail."""
        self.failed_starts = 0
        self._ready_at = self.clock()

    def died(self, *, in_cell: bool) -> Verdict:
        """The worker died; ``in_cell``: while a cell ran."""
        ready_at, self._ready_at = self._ready_at, None
        if ready_at is None:  # it never became ready
            self.failed_starts += 1
            if self.failed_starts >= self.restart_limit:
                return Verdict(False, reason=f"The worker could not start ({self.failed_starts} tries)")
            return Verdict(True, BACKOFF * self.failed_starts)
        if in_cell:
            return Verdict(True)
        if self.clock() - ready_at >= self.stable_start_time:
            self.idle_deaths = 0
        self.idle_deaths += 1
        if self.idle_deaths >= self.restart_limit:
            return Verdict(False, reason=f"The worker died {self.idle_deaths} times in a row without a cell "
                                         f"running, each within {self.stable_start_time:g} s of starting; "
                                         "not restarting it")
        return Verdict(True)
