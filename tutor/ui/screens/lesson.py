"""The lesson screen: the coordinator of one open lesson.

Its parts each live in their own room, and this screen wires them together:

- the page (prose, cells, exercises, quizzes; building steps as they come near,
  scrolling, jumping; where the learner is: the step, posted as ``StepEntered``, and
  the current cell): ``tutor/ui/widgets/page.py``;
- the contents beside or over the page: ``tutor/ui/widgets/toc.py``;
- a cell shows its own runs and asks before a reset: ``tutor/ui/widgets/cell.py``;
- the run queue (one run at a time; where queued runs get dropped):
  ``tutor/execution/queue.py``, run here as one background worker whose callbacks
  only post ``RunStarted``, ``RunReported``, ``RunEnded`` and ``RunDropped``
  (``tutor/ui/run_reports.py``); their handlers below hand them to the cells;
- how a run goes, and its words: ``tutor/execution/``;
- stopping and restarting the worker: ``tutor/ui/worker_controls.py``;
- runs from before this app attached to the lesson's session: ``tutor/ui/replay.py``;
- the reference curves drawn behind a run's chart: ``tutor.curves.LessonGhosts``;
- what counts as done: ``tutor/progress/records.py``, kept current by a
  ``LessonTracker``; edits saved: ``tutor/ui/edits.py``.
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
from tutor.execution import Job, Outcome, job_for
from tutor.execution.outcome import cells_not_run_advice
from tutor.execution.queue import RunQueue
from tutor.execution.session import SandboxSession
from tutor.lessons.links import LessonLinks
from tutor.lessons.model import Lesson
from tutor.progress import LessonTracker
from tutor.ui import heap, keys
from tutor.ui.edits import EditSaver
from tutor.ui.messages import RunDropped, RunEnded, RunReported, RunStarted, StepEntered
from tutor.ui.run_reports import RunReporter
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
        super().__init__()
        self.lesson = lesson
        self.session = session
        self.store = store
        self.tracker = LessonTracker(store, lesson)
        self.page = LessonPage(lesson, self.tracker.progress, start_step=step_id, focus_cell=focus_cell, id="page")
        self.status_line = StatusLine()  # kept: a query would search every widget of the page
        self.outputs = OutputKeeper(OutputStore.for_lesson(lesson.id))  # for tutor export
        reporter = RunReporter(self.post_message, session, self.outputs, lesson.id, self._step_title)
        self.runs = RunQueue(session.client, session.memory, **reporter.callbacks)
        self.replay = ReplayedRuns(self)
        self.above = RunAllAbove()
        self.controls = WorkerControls(self, session, self.runs, self.replay, stopping=self.above.forget)
        self.edits = EditSaver(store, lesson.id, self.set_timer)
        self.ghosts = curves.LessonGhosts(lesson.path)
        self.links = LessonLinks(lesson)

    # -- what tests and the app read -------------------------------------------------------

    @property
    def cells(self) -> list[RunnableCell]:
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
        return self.page.current_step

    @property
    def toc(self) -> StepList:
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
        yield Static(f"{number}{lesson.title}", classes="lesson-title")
        with Horizontal(id="body"):
            yield StepList(lesson.steps, self.tracker.done_steps(), id="toc")
            yield self.page
        yield self.status_line
        yield KeyFooter(first=keys.FOOTER_FIRST, last=keys.FOOTER_LAST)

    def on_mount(self) -> None:
        if self.ghosts.problem:
            self.app.notify(f"This lesson's reference curves are not shown: {self.ghosts.problem}",
                            severity="warning", timeout=8, markup=False)
        self.show_status()
        self.call_later(self.show_replayed)
        self.toc.fit(self.size.width)
        self._serve_runs()
        self.page.begin()

    def on_resize(self, event) -> None:
        self.toc.fit(event.size.width)

    def on_screen_resume(self) -> None:
        self.show_status()

    # -- where the learner is -------------------------------------------------------------

    @on(StepEntered)
    def _mark_step(self, message: StepEntered) -> None:
        """Seen, where "continue" comes back to, and the contents' marks."""
        self.tracker.step_seen(message.step_id)
        self.query_one(StepList).mark(current=message.step_id)
        self._refresh_done_marks()
        self.refresh_bindings()  # Links (Ctrl+L) is offered when this step has some

    def _refresh_done_marks(self) -> None:
        self.query_one(StepList).mark(done=self.tracker.done_steps())

    def go_to_step(self, step_id: str) -> None:
        """Scroll the step to the top of the page; focus its first cell."""
        self.page.jump(step_id=step_id)

    def on_step_list_step_chosen(self, message: StepList.StepChosen) -> None:
        self.go_to_step(message.step_id)

    def action_step(self, delta: int) -> None:
        self.page.jump_by(delta)

    def action_toggle_toc(self) -> None:
        if self.toc.toggle(self.size.width):  # closed: back to the page
            (self.current.editor if self.current else self.page).focus()

    def action_back(self) -> None:
        self.app.action_go_home()

    def action_links(self) -> None:
        from tutor.ui.screens.links import LinksScreen

        step = next(s for s in self.lesson.steps if s.id == self.current_step)
        self.app.push_screen(LinksScreen(step.title, self.links.of(step.id)))

    # -- edited code ------------------------------------------------------------------------

    @on(TextArea.Changed)
    def _code_edited(self, event: TextArea.Changed) -> None:
        cell = event.text_area.parent
        if isinstance(cell, RunnableCell) and event.text_area is cell.editor and not cell.editor.read_only:
            self.edits.changed(cell.cell_id, cell.code, cell.original_code)

    def save_edits(self) -> None:
        """Write pending edits to the progress store now (the app calls it as it quits)."""
        self.edits.save()

    def on_unmount(self) -> None:
        self.save_edits()
        self.outputs.close()
        heap.thaw(self.app)  # the page froze its widgets once built

    # -- asking for runs --------------------------------------------------------------------

    def _cell_for_action(self) -> RunnableCell | None:
        if self.current is None and self.cells:
            self.page.set_current(self.cells[0])
        return self.current

    def action_run(self) -> None:
        cell = self._cell_for_action()
        if cell is not None:
            self.enqueue(cell)

    def action_run_next(self) -> None:
        cell = self._cell_for_action()
        if cell is None:
            return
        self.enqueue(cell)
        index = self.cells.index(cell)
        if index + 1 < len(self.cells):
            self.page.bring(self.cells[index + 1])

    def action_run_above(self) -> None:
        cell = self._cell_for_action()
        if cell is None:
            return
        above = self.cells[:self.cells.index(cell)]
        if not above:
            self.app.notify("There are no cells above this one.", timeout=3)
        queued = (self.enqueue(other, as_check=False) for other in above)
        self.above.queued([job for job in queued if job is not None])

    def on_runnable_cell_run_requested(self, message: RunnableCell.RunRequested) -> None:
        message.stop()
        self.page.set_current(message.cell)
        self.enqueue(message.cell)

    def enqueue(self, cell: RunnableCell, *, as_check: bool | None = None) -> Job | None:
        """Queue a run of ``cell``, and say which; an exercise is checked unless
        ``as_check`` is False. A second press while it waits or runs changes nothing (None)."""
        if not cell.accepts_run():
            return None
        job = job_for(cell.block, label=cell.label, code=cell.code, check=as_check is not False)
        waiting = not self.runs.idle
        if self.runs.add(job, cell) is None:
            return None
        cell.show_queued(job, waiting)
        return job

    # -- the run queue: a background worker whose callbacks only post messages (RunReporter) ----

    @work(group="runs", name="the run queue", exit_on_error=False)
    async def _serve_runs(self) -> None:
        await self.runs.serve()

    def _step_title(self, cell) -> str | None:
        step = self.page.step_of(cell)
        return getattr(getattr(step, "step", None), "title", None) if step is not None else None

    # -- what the run queue said -----------------------------------------------------------------

    async def on_run_started(self, message: RunStarted) -> None:
        message.cell.ghost = self.ghosts.ghost(message.cell.block, message.job.code.code)
        if message.cell is self.current:
            self.page.let_go_for(message.cell)
        elif self.page.is_above_view(message.cell):
            self.page.keep_view()  # "run all above": output up there does not push the page
        if not self.page.shows(message.cell):
            await self.page.fill_step_of(message.cell)  # a run shows in the cell's widgets
        message.cell.show_run_started(message.job)
        self.session.running_label = message.cell.label
        self.show_status()

    def on_run_reported(self, message: RunReported) -> None:
        if message.cell.show_reported(message.phase, message.event):
            self.reveal(message.cell)

    def reveal(self, cell: RunnableCell) -> None:
        """Scroll what the learner's own run shows into view (not for "run all above")."""
        if cell is self.current:
            part = cell.last_part()
            self.call_after_refresh(part.scroll_visible, animate=False)

    def on_run_ended(self, message: RunEnded) -> None:
        cell, outcome = message.cell, message.outcome
        self.session.running_label = None
        self.show_status()
        self.controls.leave_notes()
        above = [other.cell_id for other in self.cells[:self.cells.index(cell)]]
        advice = cells_not_run_advice(outcome, above, self.session.memory.has_run)
        if advice:
            outcome.advice.append(advice)
        self.show_run_ended(cell, message.job, outcome)
        stopped = self.above.ended(message.job, outcome, where=self._step_title(cell),
                                   exercise=isinstance(cell, ExerciseView))
        if stopped:
            self.app.notify(stopped, severity="warning", timeout=12, markup=False)  # it quotes the learner's error

    def show_run_ended(self, cell: RunnableCell, job: Job, outcome: Outcome) -> None:
        """A run is over (this app's, or one from before it attached): shown, and recorded."""
        cell.show_run_ended(job, outcome)
        if job.is_check:
            self.tracker.exercise_tried(cell.cell_id, bool(outcome.passed))
        elif outcome.finished is not None:
            self.tracker.cell_ran(cell.cell_id, outcome.code_ran)
        self.reveal(cell)
        self._refresh_done_marks()

    def on_run_dropped(self, message: RunDropped) -> None:
        message.cell.show_run_dropped(message.job, message.why)

    def show_status(self) -> None:
        self.status_line.show(self.session)

    # -- runs from before this app attached (sessions) ---------------------------------------

    async def show_replayed(self) -> None:
        """Show what the session's worker ran before this app attached (``ReplayedRuns``)."""
        await self.replay.show_pending()

    # -- interrupt, restart, reset ------------------------------------------------------------

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "interrupt_running":  # otherwise ctrl+c copies, as everywhere
            return self.controls.running
        if action == "links":
            return bool(self.links.of(self.current_step))
        return True

    def action_interrupt_running(self) -> None:
        self.action_interrupt()

    def action_interrupt(self) -> None:
        self.controls.interrupt()

    def action_restart(self) -> None:
        self.controls.ask_restart()

    def restart_worker(self) -> None:
        """Restart without asking (the command palette's "Restart worker")."""
        self.controls.restart()

    def action_reset(self) -> None:
        cell = self._cell_for_action()
        if cell is not None:
            cell.ask_reset()

    def on_runnable_cell_code_reset(self, message: RunnableCell.CodeReset) -> None:
        self.edits.reverted(message.cell.cell_id)

    # -- exercises and quizzes -------------------------------------------------------------

    def on_exercise_view_solution_revealed(self, message: ExerciseView.SolutionRevealed) -> None:
        self.store.reveal_solution(self.lesson.id, message.cell.cell_id)

    def on_quiz_view_answered(self, message: QuizView.Answered) -> None:
        self.tracker.quiz_answered(message.quiz_id, message.answer, message.correct)
        self._refresh_done_marks()

