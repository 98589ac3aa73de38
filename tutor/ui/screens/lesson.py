"""The lesson screen: the coordinator of one open lesson. Its keys and messages are
handed to the parts below, each in a room of its own:

- the page (prose, cells, exercises, quizzes; building steps as they come near,
  scrolling, jumping; where the learner is: the step, posted as ``StepEntered``, and
  the current cell): ``tutor/ui/widgets/page.py``; the contents beside or over it:
  ``tutor/ui/widgets/toc.py``; a cell shows its own runs: ``tutor/ui/widgets/cell.py``;
- which cells a key runs, each queued once (F5, F6, F4):
  ``tutor/ui/run_requests.py``;
- the run queue (one run at a time; where queued runs get dropped):
  ``tutor/execution/queue.py``, served here by one background worker whose callbacks
  post ``RunStarted``, ``RunReported``, ``RunEnded`` and ``RunDropped``
  (``tutor/ui/run_reports.py``; a run whose start the key showed hands its reports to
  ``RunDisplay.reported`` at once); how a run goes, and its words: ``tutor/execution/``;
- what those messages show, in the cells, the page and the status line:
  ``tutor/ui/run_display.py``; where "run all above" stopped: ``tutor/ui/run_above.py``;
- stopping and restarting the worker (F7, Ctrl+C, F8): ``tutor/ui/worker_controls.py``;
- runs from before this app attached to the lesson's session: ``tutor/ui/replay.py``;
- progress recorded, and the contents' done marks: ``tutor/ui/progress_marks.py``
  (the one rule of done: ``tutor/progress/records.py``); edits saved: ``tutor/ui/edits.py``;
- the reference curves drawn behind a run's chart: ``tutor.curves.LessonGhosts``.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static, TextArea

from tutor import curves
from tutor.cell_outputs import OutputKeeper, OutputStore
from tutor.execution import Job
from tutor.execution.queue import RunQueue
from tutor.execution.session import SandboxSession
from tutor.lessons.links import LessonLinks
from tutor.lessons.model import Lesson
from tutor.ui import heap, keys
from tutor.ui.edits import EditSaver
from tutor.ui.messages import RunDropped, RunEnded, RunReported, RunStarted, StepEntered
from tutor.ui.progress_marks import ProgressMarks
from tutor.ui.run_display import RunDisplay
from tutor.ui.run_reports import RunReporter
from tutor.ui.run_requests import RunRequests
from tutor.ui.widgets.cell import RunnableCell
from tutor.ui.widgets.exercise import ExerciseView
from tutor.ui.widgets.key_footer import KeyFooter
from tutor.ui.replay import ReplayedRuns
from tutor.ui.run_above import RunAllAbove
from tutor.ui.widgets.page import LessonPage
from tutor.ui.widgets.quiz import QuizView
from tutor.ui.widgets.status_line import StatusLine
from tutor.ui.widgets.toc import StepList
from tutor.ui.worker_controls import WorkerControls
from tutor.ui.worker_failures import ShowsWorkerFailures


class LessonScreen(ShowsWorkerFailures, Screen):
    DEFAULT_CSS = """
    LessonScreen { layout: vertical; }
    LessonScreen > .lesson-title {
        height: 1;
        background: $primary 30%;
        text-style: bold;
        padding: 0 1;
    }
    LessonScreen #body { height: 1fr; }
    """

    BINDINGS = [
        Binding(keys.RUN, "run", "Run", priority=True),
        Binding(keys.RUN_NEXT, "run_next", "Run+next", priority=True),
        Binding(keys.INTERRUPT, "interrupt", "Stop", priority=True),
        Binding(keys.INTERRUPT_CTRL_C, "interrupt_running", "Stop", show=False, priority=True),
        Binding(keys.RESTART, "restart", "Restart", priority=True),
        Binding(keys.RESET, "reset", "Reset", priority=True),
        Binding(keys.RUN_ABOVE, "run_above", "Run above", show=False, priority=True),
        Binding(keys.CONTENTS, "toggle_toc", "Contents", priority=True),
        Binding(keys.NEXT_STEP, "step(1)", "Next step"),
        Binding(keys.PREV_STEP, "step(-1)", "Previous step", show=False),
        Binding(keys.LINKS, "links", "Links", priority=True),
        Binding(keys.HELP, "app.help", "Help"),
        Binding(keys.BACK, "back", "Lessons", show=False),
    ]

    def __init__(self, lesson: Lesson, session: SandboxSession, store, *, step_id: str | None = None,
                 focus_cell: str | None = None):
        """Builds the parts listed in the module's docstring; the run queue is served from
        ``on_mount``."""
        super().__init__()
        self.lesson = lesson
        self.session = session
        self.store = store
        self.progress = ProgressMarks(store, lesson, lambda: self.toc)
        self.page = LessonPage(lesson, self.progress.tracker.progress, start_step=step_id, focus_cell=focus_cell, id="page")
        self.status_line = StatusLine()  # kept: a query would search every widget of the page
        self.outputs = OutputKeeper(OutputStore.for_lesson(lesson.id))  # for tutor export
        self.run_display = RunDisplay(self)
        self.reporter = RunReporter(self.post_message, session, self.outputs, lesson.id, self.step_title,
                                    show=self.run_display.reported)
        self.runs = RunQueue(session.client, session.memory, **self.reporter.callbacks)
        self.requests = RunRequests(self)
        self._quiz_of_focused: tuple[object, QuizView | None] = (None, None)  # (focused widget, its quiz)
        self.replay = ReplayedRuns(self)
        self.above = RunAllAbove()
        self.controls = WorkerControls(self, session, self.runs, self.replay, stopping=self.above.forget)
        self.edits = EditSaver(store, lesson.id, self.set_timer)
        self.ghosts = curves.LessonGhosts(lesson.path)
        self.links = LessonLinks(lesson)

    # -- what tests and the app read -------------------------------------------------------

    @property
    def cells(self) -> list[RunnableCell]:
        """Every cell widget of the lesson, in order, mounted or not."""
        return self.page.cells

    @property
    def settled(self) -> bool:
        """The steps in and near the view are built, and nothing is being built (steps
        further away are built when they come near: ``LessonPage``)."""
        return self.page.settled

    @property
    def current(self) -> RunnableCell | None:
        """The cell the learner works on (F5 runs it)."""
        return self.page.current

    @property
    def current_step(self) -> str | None:
        """The id of the step the learner is in."""
        return self.page.current_step

    @property
    def toc(self) -> StepList:
        """The contents (a ``StepList``)."""
        return self.query_one(StepList)

    @property
    def idle(self) -> bool:
        """The page settled, no jump under way, nothing running or queued."""
        jumping = any(w.group == "jump" and not w.is_finished for w in self.page.workers)
        return self.page.settled and not jumping and self.runs.idle

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        lesson = self.lesson
        number = f"{lesson.number} · " if lesson.number else ""
        yield Static(f"{number}{lesson.title}", classes="lesson-title", markup=False)
        with Horizontal(id="body"):
            yield StepList(lesson.steps, self.progress.done_steps(), id="toc")
            yield self.page
        yield self.status_line
        yield KeyFooter(first=keys.FOOTER_FIRST, last=keys.FOOTER_LAST)

    def on_mount(self) -> None:
        """Warn of missing reference curves, show the status, start the run queue, build the
        page."""
        if self.ghosts.problem:
            self.app.notify(f"This lesson's reference curves are not shown: {self.ghosts.problem}",
                            severity="warning", timeout=8, markup=False)
        self.show_status()
        self.call_later(self.show_replayed)
        self.toc.fit(self.size.width)
        self._serve_runs()
        self.page.begin()

    def on_resize(self, event) -> None:
        """The contents are shown beside the page while the screen is wide enough
        (``StepList.fit``)."""
        self.toc.fit(event.size.width)

    def on_screen_resume(self) -> None:
        """Back from a modal (help, a question): the worker may have changed state meanwhile."""
        self.show_status()

    # -- where the learner is -------------------------------------------------------------

    @on(StepEntered)
    def _mark_step(self, message: StepEntered) -> None:
        """Record the step the learner reached."""
        self.progress.step_entered(message.step_id)
        self.refresh_bindings()  # Links (Ctrl+L) is offered when this step has some

    def go_to_step(self, step_id: str) -> None:
        """Scroll the step to the top of the page; focus its first cell."""
        self.page.jump(step_id=step_id)

    def on_step_list_step_chosen(self, message: StepList.StepChosen) -> None:
        self.go_to_step(message.step_id)

    def action_step(self, delta: int) -> None:
        """Jump ``delta`` steps forward or back."""
        self.page.jump_by(delta)

    def action_toggle_toc(self) -> None:
        """Open or close the contents; closing gives the focus back to the page."""
        if self.toc.toggle(self.size.width):  # closed: back to the page
            (self.current.editor if self.current else self.page).focus()

    def action_back(self) -> None:
        self.app.action_go_home()

    def action_links(self) -> None:
        """Ctrl+L: the links of the current step, in a modal."""
        from tutor.ui.screens.links import LinksScreen

        step = next(s for s in self.lesson.steps if s.id == self.current_step)
        self.app.push_screen(LinksScreen(step.title, self.links.of(step.id)))

    # -- edited code ------------------------------------------------------------------------

    @on(TextArea.Changed)
    def _code_edited(self, event: TextArea.Changed) -> None:
        """An edit in a cell's own editor goes to the saver (not one in a solution's
        editor, nor in an editor locked while a check runs)."""
        cell = event.text_area.parent
        if isinstance(cell, RunnableCell) and event.text_area is cell.editor and not cell.editor.read_only:
            self.edits.changed(cell.cell_id, cell.code, cell.original_code)

    def save_edits(self) -> None:
        """Write pending edits to the progress store now (the app calls it as it quits)."""
        self.edits.save()

    def on_unmount(self) -> None:
        """Leaving the lesson: save edits, close the output store, let the collector see the
        page's widgets again."""
        self.save_edits()
        self.outputs.close()
        heap.thaw(self.app)  # the page froze its widgets once built

    # -- asking for runs (tutor/ui/run_requests.py) ------------------------------------------

    def action_run(self) -> None:
        """F5: run (or check) the cell the key acts on; in a quiz, answer it (not the
        code cell above it, far from where the learner is)."""
        quiz = self._focused_quiz()
        if quiz is not None:
            quiz.answer_now()
            return
        self.requests.run(self.requests.cell_for_key())

    def action_run_next(self) -> None:
        """F6: run it and move to the next cell (not offered in a quiz)."""
        self.requests.run_and_move_on(self.requests.cell_for_key())

    def _focused_quiz(self) -> QuizView | None:
        """The quiz the learner is in (its choices or its answer box have focus)."""
        focused = self.focused
        if focused is not self._quiz_of_focused[0]:  # asked on every F5 and footer redraw
            self._quiz_of_focused = (focused, _quiz_above(focused, self))
        return self._quiz_of_focused[1]

    def action_run_above(self) -> None:
        """F4: run every cell above the key's cell, in order (not the cell itself)."""
        self.requests.run_above(self.requests.cell_for_key())

    def on_runnable_cell_run_requested(self, message: RunnableCell.RunRequested) -> None:
        """A cell's own Run button: it becomes the current cell, then runs."""
        message.stop()
        self.page.set_current(message.cell)
        self.requests.run(message.cell)

    def enqueue(self, cell: RunnableCell, *, as_check: bool | None = None) -> Job | None:
        """Queue a run of ``cell`` (``RunRequests.enqueue``)."""
        return self.requests.enqueue(cell, as_check=as_check)

    # -- the run queue: a worker on this loop whose callbacks post messages (RunReporter) ----

    @work(group="runs", name="the run queue", exit_on_error=False)
    async def _serve_runs(self) -> None:
        """Run the queue's jobs one at a time for as long as the screen lives."""
        await self.runs.serve()

    def step_title(self, cell) -> str | None:
        """The title of the step ``cell`` is in, for the outputs kept for ``tutor export``."""
        step = self.page.step_of(cell)
        return getattr(getattr(step, "step", None), "title", None) if step is not None else None

    # -- what the run queue said, shown (tutor/ui/run_display.py) -----------------------------

    async def on_run_started(self, message: RunStarted) -> None:
        await self.run_display.started(message.cell, message.job)

    def on_run_reported(self, message: RunReported) -> None:
        self.run_display.reported(message.cell, message.phase, message.event)

    def on_run_ended(self, message: RunEnded) -> None:
        self.run_display.ended(message.cell, message.job, message.outcome)

    def on_run_dropped(self, message: RunDropped) -> None:
        self.run_display.dropped(message.cell, message.job, message.why)

    def show_status(self) -> None:
        """Show the session's worker state in the status line."""
        self.status_line.show(self.session)

    # -- runs from before this app attached (sessions) ---------------------------------------

    async def show_replayed(self) -> None:
        """Show what the session's worker ran before this app attached (``ReplayedRuns``)."""
        await self.replay.show_pending()

    # -- interrupt, restart, reset ------------------------------------------------------------

    def check_action(self, action: str, parameters) -> bool | None:
        """Ctrl+C stops only while something runs (else it copies); Ctrl+L only where the
        step has links; Ctrl+Down/Up only where there is a next/previous step; in a
        quiz, not F6 (F5 answers it) nor F9 (both act on the code cell above it, away
        from where the learner is)."""
        if action in ("run_next", "reset"):
            return self._focused_quiz() is None
        if action == "interrupt_running":  # otherwise ctrl+c copies, as everywhere
            return self.controls.running
        if action == "links":
            return bool(self.links.of(self.current_step))
        if action == "step" and parameters:  # no "Next step" on the last one (nor back on the first)
            ids = [step.id for step in self.lesson.steps]
            index = ids.index(self.current_step) if self.current_step in ids else 0
            return 0 <= index + parameters[0] < len(ids)
        return True

    def key_label(self, action: str) -> str | None:
        """The footer's word for ``action`` now: in a quiz, F5 answers it; on an
        exercise, it checks it."""
        if self._focused_quiz() is not None:
            return "Answer" if action == "run" else None
        if isinstance(self.current, ExerciseView):
            return {"run": "Check", "run_next": "Check+next"}.get(action)
        return None

    def action_interrupt_running(self) -> None:
        """Ctrl+C, offered only while something runs: as F7."""
        self.action_interrupt()

    def action_interrupt(self) -> None:
        """F7: stop the run and drop those waiting (``WorkerControls.interrupt``)."""
        self.controls.interrupt()

    def action_restart(self) -> None:
        """F8: restart the worker once the learner says yes."""
        self.controls.ask_restart()

    def restart_worker(self) -> None:
        """Restart without asking (the command palette's "Restart worker")."""
        self.controls.restart()

    def action_reset(self) -> None:
        """Ask to reset the key's cell to the lesson's code."""
        cell = self.requests.cell_for_key()
        if cell is not None:
            cell.ask_reset()

    def on_runnable_cell_code_reset(self, message: RunnableCell.CodeReset) -> None:
        """A reset cell's code is the lesson's again: forget its saved edit."""
        self.edits.reverted(message.cell.cell_id)

    # -- exercises and quizzes -------------------------------------------------------------

    def on_exercise_view_solution_revealed(self, message: ExerciseView.SolutionRevealed) -> None:
        self.progress.solution_revealed(message.cell.cell_id)

    def on_quiz_view_answered(self, message: QuizView.Answered) -> None:
        self.progress.quiz_answered(message.quiz_id, message.answer, message.correct)


def _quiz_above(widget, screen) -> QuizView | None:
    """The quiz ``widget`` is in, if any (a widget never moves to another parent)."""
    node = widget
    while node is not None and node is not screen:
        if isinstance(node, QuizView):
            return node
        node = node.parent
    return None
