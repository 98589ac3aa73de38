"""The app's own messages, named as facts. Background work posts them; handlers update
the widgets. Each has a ``control`` (the widget it is about, as Textual's
``Button.Pressed``), so ``@on(RunEnded, "#cell-intro-1")`` works.

Messages a widget posts about itself stay nested in the widget (``QuizView.Answered``).
The run queue's messages are posted to the lesson screen, for it alone: they do not
bubble on to the app (whose queue each copy woke, on the way of a run's output).
"""

from __future__ import annotations

from textual.message import Message
from textual.widget import Widget

from tutor.execution import Job, Outcome


class RunStarted(Message, bubble=False):
    """A queued run of ``cell`` began in the worker. A run asked for while nothing ran or
    waited has none: the key's handler showed its start (``tutor/ui/run_requests.py``)."""

    def __init__(self, cell: Widget, job: Job) -> None:
        super().__init__()
        self.cell = cell
        self.job = job

    @property
    def control(self) -> Widget:
        return self.cell


class RunReported(Message, bubble=False):
    """The worker reported ``event`` while it ran ``cell``; ``phase`` is the part's
    (``setup``, ``code`` or ``check``)."""

    def __init__(self, cell: Widget, job: Job, phase: str, event) -> None:
        super().__init__()
        self.cell = cell
        self.job = job
        self.phase = phase
        self.event = event

    @property
    def control(self) -> Widget:
        return self.cell


class RunEnded(Message, bubble=False):
    """The run of ``cell`` is over; ``outcome`` says how it went."""

    def __init__(self, cell: Widget, job: Job, outcome: Outcome) -> None:
        super().__init__()
        self.cell = cell
        self.job = job
        self.outcome = outcome

    @property
    def control(self) -> Widget:
        return self.cell


class RunDropped(Message, bubble=False):
    """A queued run of ``cell`` will not happen: ``why`` (an earlier run failed, an
    interrupt, a restart)."""

    def __init__(self, cell: Widget, job: Job, why: str) -> None:
        super().__init__()
        self.cell = cell
        self.job = job
        self.why = why

    @property
    def control(self) -> Widget:
        return self.cell


class StepEntered(Message):
    """The learner is now in the step ``step_id`` of ``page`` (by focus, scrolling or a jump)."""

    def __init__(self, page: Widget, step_id: str) -> None:
        super().__init__()
        self.page = page
        self.step_id = step_id

    @property
    def control(self) -> Widget:
        return self.page


class ProgressNotSaved(Message):
    """A write to the progress store failed in the background: ``problem`` says why."""

    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem

    @property
    def control(self) -> None:
        return None


class SessionReported(Message):
    """A lesson's session said something beyond the worker's state (tutor.sessions.events):
    runs from before the app attached, what happened while it was away, the link."""

    def __init__(self, session, event) -> None:
        super().__init__()
        self.session = session
        self.event = event


class CourseParsed(Message):
    """The course the app started from an outline of is parsed: ``catalog`` holds every
    lesson, validated (broken ones with their errors)."""

    def __init__(self, catalog) -> None:
        super().__init__()
        self.catalog = catalog

    @property
    def control(self) -> None:
        return None
