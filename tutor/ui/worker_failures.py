"""Background work that fails is seen, never lost in silence (as Harlequin's
``@on(Worker.StateChanged)``).

Textual tells only the node that ran a worker how it ended (``Worker.StateChanged``
does not bubble), so every node that runs workers with ``exit_on_error=False`` mixes in
:class:`ShowsWorkerFailures`: a worker that ends in an error is said in one line to the
learner, and logged with its traceback.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState


def failure_text(worker: Worker) -> str:
    """``Restarting the worker failed: OSError: ...`` (the worker's name says what it did)."""
    error = worker.error
    what = worker.name or worker.group or "a background task"
    return f"{what[:1].upper()}{what[1:]} failed: {type(error).__name__}: {error}"


class ShowsWorkerFailures:
    """For the app, screens and widgets that run workers."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker of this node ended in an error: ``worker_failed``."""
        if event.state is WorkerState.ERROR:
            self.worker_failed(event.worker)

    def worker_failed(self, worker: Worker) -> None:
        """Say it (a widget may show it in place instead)."""
        self.log.error(failure_text(worker), worker.error)
        self.app.notify(failure_text(worker), title="Something went wrong", severity="error", timeout=10,
                        markup=False)  # it quotes the error
