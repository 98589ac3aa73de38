"""The status line: the device, the worker's state, its memory use. The app's
``worker_signal`` keeps it current; the lesson screen tells it which cell runs."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.widget import Widget

from tutor.sandbox.events import WorkerState
from tutor.execution.session import SandboxSession, device_text, memory_text, state_text

_STATE_STYLE = {
    WorkerState.READY: "status-line--ready",
    WorkerState.RUNNING: "status-line--busy",
    WorkerState.INTERRUPTING: "status-line--busy",
    WorkerState.STARTING: "status-line--busy",
    WorkerState.RESTARTING: "status-line--busy",
    WorkerState.CRASHED: "status-line--bad",
    WorkerState.STOPPED: "status-line--bad",
}


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        color: $text-muted;
        padding: 0 1;
    }
    StatusLine > .status-line--ready { color: $success; }
    StatusLine > .status-line--busy { color: $warning; }
    StatusLine > .status-line--bad { color: $error; text-style: bold; }
    StatusLine > .status-line--device { color: $foreground; }
    """
    COMPONENT_CLASSES = {"status-line--ready", "status-line--busy", "status-line--bad", "status-line--device"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.session: SandboxSession | None = None
        self._pending: asyncio.TimerHandle | None = None  # state changes are drawn together, shortly after

    REFRESH_DELAY = 0.05  # a fast cell goes running -> ready in a few ms: draw the line once

    def on_mount(self) -> None:
        """Hear the app's ``worker_signal``: every worker event calls ``show``."""
        # The app tells of worker events through a signal, not a message it would have
        # to deliver by searching the screen's widgets for status lines. Heard at once
        # (on the event loop, where the sandbox client reports): ``show`` only notes the
        # session and starts the redraw timer, and a message per event would wake this
        # widget's queue twice per run, on the way of the run's output.
        signal = getattr(self.app, "worker_signal", None)
        if signal is not None:
            signal.subscribe(self, self._worker_reported, immediate=True)

    def on_unmount(self) -> None:
        signal = getattr(self.app, "worker_signal", None)
        if signal is not None:
            signal.unsubscribe(self)

    def _worker_reported(self, session: SandboxSession) -> None:
        """A worker event: redraw if it is this line's session (or it has none yet)."""
        if self.session is None or self.session is session:
            self.show(session)

    def show(self, session: SandboxSession | None) -> None:
        """Show ``session``; redrawn once, ``REFRESH_DELAY`` after the first of a burst of
        changes."""
        self.session = session
        if self._pending is None:
            # An asyncio timer, not a Textual one: this runs for every worker event, and a
            # Textual timer is a task of its own (it was most of the cost of a trivial run).
            self._pending = asyncio.get_running_loop().call_later(self.REFRESH_DELAY, self._redraw)

    def _redraw(self) -> None:
        """The timer's end: one refresh for every change since it started."""
        self._pending = None
        if self.is_attached:
            self.refresh()

    @property
    def plain(self) -> str:
        """The line as plain text (tests)."""
        return self.render().plain

    def render(self) -> Text:
        """``device │ worker state │ memory``, the state coloured by how it goes."""
        session = self.session
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(device_text(session), self.get_component_rich_style("status-line--device", partial=True))
        text.append(" │ ")
        style = _STATE_STYLE.get(session.state) if session else None
        text.append("worker " + state_text(session),
                    self.get_component_rich_style(style, partial=True) if style else "")
        memory = memory_text(session)
        if memory:
            text.append(" │ " + memory)
        return text
