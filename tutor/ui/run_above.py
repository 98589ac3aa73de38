"""Run all above (F4): the runs one press queued, and the words when one of them
stops the rest.

Like a notebook's "run all", the queue stops at the first run that does not go on (an
unsolved exercise whose code raises, a cell that fails), and the runs after it say so
in their own headers (``tutor/execution/queue.py``). But those cells are above the
learner's view: so where the runs stopped, and why, is also said where the learner
is. A run the learner stopped (F7, F8) is not news. No Textual here.
"""

from __future__ import annotations

from tutor.execution import Job, Outcome, error_text


class RunAllAbove:
    """The runs of the last "run all above" not yet ended."""

    def __init__(self) -> None:
        self._pending: list[Job] = []

    def queued(self, jobs: list[Job]) -> None:
        """One press queued these runs, in order (a cell already waiting is not among them)."""
        self._pending = list(jobs)

    def forget(self) -> None:
        """The learner dropped the runs (an interrupt, a restart): nothing to say."""
        self._pending = []

    def ended(self, job: Job, outcome: Outcome, *, where: str | None = None, exercise: bool = False) -> str | None:
        """The words for the learner when ``job`` stopped the runs of the press (``where``:
        the title of its step; ``exercise``: it is one); None when it did not."""
        ours = any(pending is job for pending in self._pending)
        self._pending = [pending for pending in self._pending if pending is not job]
        if outcome.may_go_on or not (ours or self._pending):
            return None
        left, self._pending = len(self._pending), []
        name = f"{job.label} (“{where}”)" if where else job.label
        said = f"Run all above stopped at {name}: {_what_went_wrong(outcome)}"
        if left:
            said += f" The {left} cell{'s' if left > 1 else ''} after it did not run."
        fix = "solve it" if exercise else "fix it"
        return f"{said} Scroll up to {fix}, then press F4 again."


def _what_went_wrong(outcome: Outcome) -> str:
    """One short sentence: the error alone (its cell shows the rest), else the outcome's words."""
    failure = outcome.failure
    said = error_text(failure) if failure is not None and outcome.status == "error" else outcome.message
    said = said.strip() or outcome.status
    return said if said.endswith((".", "!", "?", ")")) else said + "."
