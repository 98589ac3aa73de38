"""The lesson screen: the coordinator of one open lesson.

Its parts each live in their own room, and this screen wires them together:

- the page (prose, cells, exercises, quizzes; mounting, scrolling, jumping):
  ``tutor/ui/widgets/page.py``, which posts ``StepEntered``;
- the run queue (one run at a time; where queued runs get dropped):
  ``tutor/execution/queue.py``, run here as one background worker that only posts
  ``RunStarted``, ``RunReported``, ``RunEnded`` and ``RunDropped``
  (``tutor/ui/messages.py``); their handlers below update the cells;
- how a run goes, and its words: ``tutor/execution/``;
- what counts as done: ``tutor/progress/records.py``, kept current by a
  ``LessonTracker``.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.events import DescendantFocus
from textual.screen import Screen
from textual.widgets import Static, TextArea

from tutor import curves
from tutor.cell_outputs import OutputKeeper, OutputStore
from tutor.execution import CODE, job_for
from tutor.execution.outcome import cells_not_run_advice
from tutor.execution.queue import INTERRUPTED, RESTARTED, QueuedRun, RunQueue
from tutor.execution.session import SandboxSession
from tutor.lessons.links import step_links
from tutor.lessons.model import Lesson
from tutor.progress import LessonTracker
from tutor.sandbox.events import CellFinished, CellStarted
from tutor.sessions.client import REQUEST_TAG
from tutor.ui import heap, keys
from tutor.ui.edits import EditSaver
from tutor.ui.messages import RunDropped, RunEnded, RunReported, RunStarted, StepEntered
from tutor.ui.widgets.cell import RunnableCell
from tutor.ui.widgets.exercise import ExerciseView
from tutor.ui.widgets.key_footer import KeyFooter
from tutor.ui.replay import ReplayedRuns
from tutor.ui.widgets.page import LessonPage
from tutor.ui.widgets.quiz import QuizView
from tutor.ui.widgets.status_line import StatusLine
from tutor.ui.widgets.toc import StepList
from tutor.ui.worker_failures import ShowsWorkerFailures

WIDE = 100  # from this width up, the contents stay beside the page


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
        self.start_step = step_id
        self.focus_cell = focus_cell
        self.tracker = LessonTracker(store, lesson)
        self.page = LessonPage(lesson, self.tracker.progress, start_step=self._start_step(), id="page")
        self.status_line = StatusLine()  # kept: a query would search every widget of the page
        self.runs = RunQueue(session.client, session.memory, started=self._run_started,
                             reported=self._run_reported, ended=self._run_ended, dropped=self._run_dropped,
                             part_starting=self._part_starting)
        self.replay = ReplayedRuns(self)
        self.current: RunnableCell | None = None
        self.edits = EditSaver(store, lesson.id, self.set_timer)
        self.outputs = OutputKeeper(OutputStore.for_lesson(lesson.id))  # for tutor export
        self.reference, self._reference_problem = _reference_curves(lesson)
        self._toc_pinned: bool | None = None  # None: by width
        self._links: dict[str, list] = {}  # step id -> its links, parsed when first asked

    # -- what tests and the app read -------------------------------------------------------

    @property
    def cells(self) -> list[RunnableCell]:
        return self.page.cells

    @property
    def loaded(self) -> bool:
        """Every step of the page is mounted."""
        return self.page.loaded

    @property
    def current_step(self) -> str | None:
        return self.page.current_step

    @property
    def idle(self) -> bool:
        """Every step mounted, no jump under way, nothing running or queued."""
        jumping = any(w.group == "jump" and not w.is_finished for w in self.page.workers)
        return self.page.loaded and not jumping and self.runs.idle

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

    def _start_step(self) -> str | None:
        """Where the lesson opens: the step of the cell to focus, the step asked for, or
        where the learner was."""
        step = self.lesson.step_of(self.focus_cell) if self.focus_cell else None
        return step.id if step else (self.start_step or self.tracker.progress.position)

    def on_mount(self) -> None:
        if self._reference_problem:
            self.app.notify(f"This lesson's reference curves are not shown: {self._reference_problem}",
                            severity="warning", timeout=8)
        self.status_line.show(self.session)
        self.show_replayed()
        self._fit_toc(self.size.width)
        self._serve_runs()
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        start = self.page.start_step
        if start is None:
            return
        # The start step is mounted with the page: its first cell is the current one from
        # the first frame (F5, F4 work at once); the other steps fill as they come near.
        cells = self.page.step_cells(start)
        if self.focus_cell is not None:
            self.page.jump(cell_id=self.focus_cell)
        elif cells:
            cells[0].editor.focus(scroll_visible=False)
            self._set_current(cells[0])
        elif start != self.lesson.steps[0].id:
            self.page.focus(scroll_visible=False)
        self.page.enter_step(start)

    def _theme_changed(self, _theme) -> None:
        for cell in self.cells:
            if cell.is_mounted and cell.border_tone():
                cell.apply_border()

    def on_resize(self, event) -> None:
        self._fit_toc(event.size.width)

    def _fit_toc(self, width: int) -> None:
        show = self._toc_pinned if self._toc_pinned is not None else width >= WIDE
        self.show_toc(show)

    @property
    def toc_shown(self) -> bool:
        return self.query_one(StepList).display

    def show_toc(self, show: bool) -> None:
        # display on the one widget: a class on the screen would restyle every widget
        toc = self.query_one(StepList)
        if toc.display != show:
            toc.display = show

    def on_screen_resume(self) -> None:
        self.status_line.show(self.session)

    # -- where the learner is -------------------------------------------------------------

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        node = event.widget
        while node is not None and not isinstance(node, RunnableCell):
            node = node.parent
        if isinstance(node, RunnableCell):
            self._set_current(node)

    def _set_current(self, cell: RunnableCell) -> None:
        if cell is self.current:
            return
        if self.current is not None:
            self.current.set_current(False)
        self.current = cell
        cell.set_current(True)

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

    def go_to_cell(self, cell_id: str) -> None:
        self.page.jump(cell_id=cell_id)

    def on_step_list_step_chosen(self, message: StepList.StepChosen) -> None:
        self.go_to_step(message.step_id)
        if self._toc_pinned is None and self.size.width < WIDE:
            self.show_toc(False)

    def action_step(self, delta: int) -> None:
        ids = [s.id for s in self.lesson.steps]
        if not ids:
            return
        index = ids.index(self.current_step) if self.current_step in ids else 0
        self.go_to_step(ids[max(0, min(len(ids) - 1, index + delta))])

    def action_toggle_toc(self) -> None:
        toc = self.query_one(StepList)
        if self.toc_shown and toc.has_focus:
            self._toc_pinned = False if self.size.width < WIDE else self._toc_pinned
            self.show_toc(False)
            (self.current.editor if self.current else self.page).focus()
        else:
            self.show_toc(True)
            ids = [s.id for s in self.lesson.steps]
            if self.current_step in ids:
                toc.highlighted = ids.index(self.current_step)
            toc.focus()

    def action_back(self) -> None:
        self.app.action_go_home()

    def _step_links(self) -> list:
        links = self._links.get(self.current_step or "")
        if links is None:
            step = next((s for s in self.lesson.steps if s.id == self.current_step), None)
            links = self._links[self.current_step or ""] = step_links(self.lesson, step) if step else []
        return links

    def action_links(self) -> None:
        from tutor.ui.screens.links import LinksScreen

        step = next(s for s in self.lesson.steps if s.id == self.current_step)
        self.app.push_screen(LinksScreen(step.title, self._step_links()))

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
        self.app.theme_changed_signal.unsubscribe(self)  # its callback would keep this screen alive
        heap.thaw(self.app)  # the page froze its widgets once loaded

    # -- asking for runs --------------------------------------------------------------------

    def _cell_for_action(self) -> RunnableCell | None:
        if self.current is None and self.cells:
            self._set_current(self.cells[0])
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
            following = self.cells[index + 1]
            if not following.is_mounted:
                self.go_to_cell(following.cell_id)
                return
            following.editor.focus()
            self._set_current(following)
            following.scroll_visible()

    def action_run_above(self) -> None:
        cell = self._cell_for_action()
        if cell is None:
            return
        above = self.cells[:self.cells.index(cell)]
        if not above:
            self.app.notify("There are no cells above this one.", timeout=3)
        for other in above:
            self.enqueue(other, as_check=False)

    def on_runnable_cell_run_requested(self, message: RunnableCell.RunRequested) -> None:
        message.stop()
        self._set_current(message.cell)
        self.enqueue(message.cell)

    def enqueue(self, cell: RunnableCell, *, as_check: bool | None = None) -> None:
        """Queue a run of ``cell``; an exercise is checked unless ``as_check`` is False.
        A second press while it waits or runs changes nothing."""
        if isinstance(cell, ExerciseView) and cell.checking:
            return
        job = job_for(cell.block, label=cell.label, code=cell.code, check=as_check is not False)
        busy = not self.runs.idle
        if self.runs.add(job, cell) is None:
            return
        if busy:
            cell.mark_queued()
        if job.is_check and isinstance(cell, ExerciseView):
            cell.begin_check()  # the editor is read-only from now on

    # -- the run queue: a background worker that only posts messages --------------------------

    @work(group="runs", name="the run queue", exit_on_error=False)
    async def _serve_runs(self) -> None:
        await self.runs.serve()

    def _run_started(self, run: QueuedRun) -> None:
        self.outputs.started(run.job.block_id)
        self.post_message(RunStarted(run.owner, run.job))

    def _part_starting(self, run: QueuedRun, part) -> None:
        # In the queue's task, just before the part is sent: a session keeps this with
        # the request, so a tutor that attaches later shows its output in this cell.
        REQUEST_TAG.set({"lesson": self.lesson.id, "cell": run.job.block_id, "run": f"{id(run):x}",
                         "phase": part.phase, "check": run.job.is_check,
                         "title": self._step_title(run.owner) or run.job.label})

    def _step_title(self, cell) -> str | None:
        step = self.page.step_of(cell)
        return getattr(getattr(step, "step", None), "title", None) if step is not None else None

    def _run_reported(self, run: QueuedRun, part, event) -> None:
        if isinstance(event, CellFinished):
            self.session.observe(event)  # at once: the queue's next run reads it
        if part.phase == CODE:
            self.outputs.add(run.job.block_id, event)
        if isinstance(event, (CellStarted, CellFinished)):
            return  # RunStarted and RunEnded tell the cell: a message each delayed the output
        self.post_message(RunReported(run.owner, run.job, part.phase, event))

    def _run_ended(self, run: QueuedRun, outcome) -> None:
        self.outputs.ended(run.job.block_id)
        self.post_message(RunEnded(run.owner, run.job, outcome))

    def _run_dropped(self, run: QueuedRun, why: str) -> None:
        self.post_message(RunDropped(run.owner, run.job, why))

    # -- what the run queue said -----------------------------------------------------------------

    async def on_run_started(self, message: RunStarted) -> None:
        message.cell.ghost = curves.ghost_for(self.reference, message.cell.block, message.job.code.code)
        if message.cell is self.current:
            self.page.let_go_for(message.cell)
        elif self.page.is_above_view(message.cell):
            self.page.keep_view()  # "run all above": output up there does not push the page
        if not self.page.shows(message.cell):
            await self.page.fill_step_of(message.cell)  # a run shows in the cell's widgets
        message.cell.show_run_started(message.job)
        self.session.running_label = message.cell.label
        self._status()

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
        self._status()
        self._leave_notes()
        above = [other.cell_id for other in self.cells[:self.cells.index(cell)]]
        advice = cells_not_run_advice(outcome, above, self.session.memory.has_run)
        if advice:
            outcome.advice.append(advice)
        cell.show_run_ended(message.job, outcome)
        if message.job.is_check:
            self.tracker.exercise_tried(cell.cell_id, bool(outcome.passed))
        elif outcome.finished is not None:
            self.tracker.cell_ran(cell.cell_id, outcome.code_ran)
        self.reveal(cell)
        self._refresh_done_marks()

    def on_run_dropped(self, message: RunDropped) -> None:
        message.cell.show_run_dropped(message.job, message.why)


    def _status(self) -> None:
        self.status_line.show(self.session)

    # -- runs from before this app attached (sessions) ---------------------------------------

    def show_replayed(self) -> None:
        """Show what the session's worker ran before this app attached (and goes on
        running): its events wait in the session until the page is all there."""
        if not self.session.replayed or not self.is_attached:
            return  # (a screen that closes shows nothing more)
        if not self.page.loaded:
            self.set_timer(0.1, self.show_replayed)
            return
        pending, self.session.replayed = self.session.replayed, []
        for replayed in pending:
            self.replay.show(replayed)
        self._status()

    def _leave_notes(self) -> None:
        """Tell the session what this worker holds, for a tutor that attaches later."""
        leave_notes = getattr(self.session.client, "leave_notes", None)
        if leave_notes is not None:
            self.run_worker(leave_notes(self.session.memory.snapshot()), group="control",
                            name="noting what the worker holds", exit_on_error=False)

    # -- interrupt, restart, reset ------------------------------------------------------------

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "interrupt_running":  # otherwise ctrl+c copies, as everywhere
            return self.runs.active is not None or self.replay.running is not None
        if action == "links":
            return bool(self._step_links())
        return True

    def action_interrupt_running(self) -> None:
        self.action_interrupt()

    def action_interrupt(self) -> None:
        if self.runs.idle and self.replay.running is not None:
            self._interrupt()  # a run from before this app attached
            return
        if self.runs.idle:
            self.app.notify("Nothing is running.", timeout=2)
            return
        self.runs.drop(INTERRUPTED)
        if self.runs.active is not None:
            self._interrupt()

    @work(group="control", name="interrupting the worker", exit_on_error=False)
    async def _interrupt(self) -> None:
        await self.session.client.interrupt()

    def action_restart(self) -> None:
        from tutor.ui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes:
                self.restart_worker()

        self.app.push_screen(ConfirmScreen("Restart the worker? Every variable is lost; the cells "
                                           "have to run again (F4 runs those above).", yes="Restart"), answered)

    def restart_worker(self) -> None:
        self.runs.drop(RESTARTED)
        self._restart()

    @work(group="control", name="restarting the worker", exit_on_error=False)
    async def _restart(self) -> None:
        await self.session.client.restart()

    def action_reset(self) -> None:
        cell = self._cell_for_action()
        if cell is not None:
            self.reset_cell(cell)

    def on_runnable_cell_reset_requested(self, message: RunnableCell.ResetRequested) -> None:
        message.stop()
        self.reset_cell(message.cell)

    def reset_cell(self, cell: RunnableCell) -> None:
        if cell.running:
            self.app.notify("The cell is running: stop it first (F7).", timeout=3)
            return
        if cell.code == cell.original_code:
            self.app.notify("This cell already has the lesson's code.", timeout=3)
            return
        from tutor.ui.screens.confirm import ConfirmScreen

        what = "the starter code" if isinstance(cell, ExerciseView) else "the lesson's code"

        def answered(yes: bool | None) -> None:
            if yes:
                cell.replace_code(cell.original_code)
                self.edits.reverted(cell.cell_id)

        self.app.push_screen(ConfirmScreen(f"Put {what} back into {cell.label}? Your edits are lost.",
                                           yes="Reset"), answered)

    # -- exercises and quizzes -------------------------------------------------------------

    def on_exercise_view_solution_revealed(self, message: ExerciseView.SolutionRevealed) -> None:
        self.store.reveal_solution(self.lesson.id, message.cell.cell_id)

    def on_quiz_view_answered(self, message: QuizView.Answered) -> None:
        self.tracker.quiz_answered(message.quiz_id, message.answer, message.correct)
        self._refresh_done_marks()


def _reference_curves(lesson: Lesson):
    """The lesson's reference curves (or None), and why they cannot be used (or "")."""
    try:
        return curves.load(lesson.path), ""
    except curves.CurvesError as err:
        return None, str(err)
