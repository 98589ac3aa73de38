"""The lesson screen, and the coordinator of everything on it.

It lays the lesson out (contents at the side; prose, cells, exercises and quizzes on
one scrolling page), owns the queue of runs, and turns sandbox events into messages:
one background task runs the queued requests in order and only posts messages
(``RunStarted``, ``RunReported``, ``RunEnded``); their handlers update the widgets and
the progress store.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import DescendantFocus
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static, TextArea

from tutor.execution import CHECK, SETUP, Executor, Job, Outcome, job_for, sandbox_failed
from tutor.execution.session import SandboxSession
from tutor.lessons.links import step_links
from tutor.lessons.model import CodeCell, Exercise, Lesson, Prose as ProseBlock, Quiz, Step
from tutor.sandbox.events import CellFailed, CellFinished, CellStarted
from tutor.ui import heap, keys
from tutor.ui.widgets.cell import CodeCellView, RunnableCell
from tutor.ui.widgets.editor import CodeEditor
from tutor.ui.widgets.exercise import ExerciseView
from tutor.ui.widgets.key_footer import KeyFooter
from tutor.ui.widgets.prose import Prose
from tutor.ui.widgets.quiz import QuizView
from tutor.ui.widgets.status_line import StatusLine
from tutor.ui.widgets.step import StepView
from tutor.ui.widgets.toc import StepList

SAVE_DELAY = 0.8  # seconds after the last keystroke before edited code is saved
WIDE = 100  # from this width up, the contents stay beside the page


# -- messages from the run task (facts) ----------------------------------------------------


class RunStarted(Message):
    def __init__(self, request: Job) -> None:
        super().__init__()
        self.request = request


class RunReported(Message):
    def __init__(self, request: Job, phase: str, event) -> None:
        super().__init__()
        self.request = request
        self.phase = phase
        self.event = event


class RunsDropped(Message):
    """Queued runs that will not happen (an earlier one failed, an interrupt, a restart)."""

    def __init__(self, dropped: list, why: str) -> None:
        super().__init__()
        self.dropped = dropped
        self.why = why


class RunEnded(Message):
    def __init__(self, request: Job, outcome: Outcome) -> None:
        super().__init__()
        self.request = request
        self.outcome = outcome


@dataclass(eq=False)
class _Pending:
    request: Job
    cell: RunnableCell


class JumpRequested(Message):
    def __init__(self, step_id: str | None, cell_id: str | None = None) -> None:
        super().__init__()
        self.step_id = step_id
        self.cell_id = cell_id


class LessonScreen(Screen):
    DEFAULT_CSS = """
    LessonScreen { layout: vertical; }
    LessonScreen > .lesson-title {
        height: 1;
        background: $primary 30%;
        text-style: bold;
        padding: 0 1;
    }
    LessonScreen #body { height: 1fr; }
    LessonScreen #page { height: 1fr; }
    LessonScreen #page > .lesson-intro { padding: 1 1 0 1; }
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
        self.focus_cell = focus_cell
        self.lesson = lesson
        self.session = session
        self.store = store
        self.start_step = step_id
        progress = store.lesson(lesson.id)
        self.progress = progress
        # Cell widgets exist from the start (cheap until mounted): runs, "run above" and
        # numbering need them all; the steps mount them progressively, one per frame.
        self.cells: list[RunnableCell] = []
        self._cells_by_id: dict[str, RunnableCell] = {}
        self._step_cells: dict[str, list[RunnableCell]] = {}
        for step in lesson.steps:
            for block in step.blocks:
                if isinstance(block, (CodeCell, Exercise)):
                    cell = self._make_cell(block, len(self.cells) + 1, progress)
                    self.cells.append(cell)
                    self._cells_by_id[block.id] = cell
                    self._step_cells.setdefault(step.id, []).append(cell)
        self.loaded = False  # every step mounted
        # What is done, for the contents' marks: from the store once, then kept here
        # (reading the store back would wait for its writes on the event loop).
        self._seen = set(progress.steps_seen)
        self._ran = set(progress.cells_run)
        self._passed = {e for e, r in progress.exercises.items() if r.passed}
        self._answered = set(progress.quizzes)
        self.current: RunnableCell | None = None
        self.current_step: str | None = None
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._waiting: list[_Pending] = []  # queued, not started (to drop on failure)
        self._active: _Pending | None = None
        self._unsaved: dict[str, tuple[str, str]] = {}  # cell id -> (code, the lesson's code)
        self._save_timer = None
        self._toc_pinned: bool | None = None  # None: by width
        self._links: dict[str, list] = {}  # step id -> its links, parsed when first asked

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        lesson = self.lesson
        number = f"{lesson.number} · " if lesson.number else ""
        yield Static(f"{number}{lesson.title}", classes="lesson-title")
        with Horizontal(id="body"):
            yield StepList(lesson.steps, self._done_steps(), id="toc")
            with VerticalScroll(id="page"):
                if lesson.intro.strip():
                    yield Prose(lesson.intro, classes="lesson-intro")
                for index, step in enumerate(lesson.steps):
                    yield StepView(step, index + 1, lambda step=step: self._step_widgets(step), filled=index == 0)
        yield StatusLine()
        yield KeyFooter(first=keys.FOOTER_FIRST, last=keys.FOOTER_LAST)

    def _step_widgets(self, step: Step) -> list:
        cells = iter(self._step_cells.get(step.id, ()))
        widgets = []
        for block in step.blocks:
            if isinstance(block, (CodeCell, Exercise)):
                widgets.append(next(cells))
            elif isinstance(block, Quiz):
                widgets.append(QuizView(block, self.progress.quizzes.get(block.id)))
            elif isinstance(block, ProseBlock):
                widgets.append(Prose(block.text))
        return widgets

    def _make_cell(self, block, number: int, progress) -> RunnableCell:
        saved = progress.code.get(block.id)
        if isinstance(block, Exercise):
            record = progress.exercises.get(block.id)
            return ExerciseView(block, number, saved if saved is not None else block.starter,
                                attempts=record.attempts if record else 0,
                                passed=bool(record and record.passed),
                                solution_revealed=bool(record and record.solution_revealed),
                                id=f"cell-{block.id}")
        return CodeCellView(block, number, saved if saved is not None else block.code, id=f"cell-{block.id}")

    def on_mount(self) -> None:
        self.query_one(StatusLine).show(self.session)
        self._fit_toc(self.size.width)
        self._run_loop()
        target = self.start_step or self.progress.position
        step_ids = [s.id for s in self.lesson.steps]
        if self.focus_cell is not None:
            self.post_message(JumpRequested(None, self.focus_cell))
        elif target in step_ids[1:]:
            self.post_message(JumpRequested(target))
        elif self.cells and self.cells[0] in self._step_cells.get(step_ids[0], ()):
            self.cells[0].editor.focus()
            self._set_current(self.cells[0])
        if step_ids:
            self._enter_step(target if target in step_ids else step_ids[0])
        self.watch(self.query_one("#page"), "scroll_y", self._page_scrolled, init=False)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.call_after_refresh(self._fill_next_step)

    def _theme_changed(self, _theme) -> None:
        for cell in self.cells:
            if cell.is_mounted and cell.border_tone():
                cell.apply_border()

    async def _fill_next_step(self) -> None:
        """Mount the next empty step, one per frame, so the first one shows at once."""
        view = next((v for v in self.query(StepView) if not v.filled), None)
        if view is None:
            self.loaded = True
            heap.freeze_long_lived()  # the page's widgets live as long as it is open
            return
        await view.fill()
        self.call_after_refresh(self._fill_next_step)

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
        self.query_one(StatusLine).show(self.session)

    # -- where the learner is -------------------------------------------------------------

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        node = event.widget
        while node is not None and not isinstance(node, (RunnableCell, StepView)):
            node = node.parent
        if isinstance(node, RunnableCell):
            self._set_current(node)
        elif isinstance(node, StepView):  # a quiz, say: the learner is in that step
            self._enter_step(node.step.id)

    def _set_current(self, cell: RunnableCell) -> None:
        if cell is self.current:
            return
        if self.current is not None:
            self.current.set_current(False)
        self.current = cell
        cell.set_current(True)
        step = self._step_of(cell)
        if step is not None:
            self._enter_step(step.step.id)

    def _step_of(self, widget) -> StepView | None:
        node = widget
        while node is not None and not isinstance(node, StepView):
            node = node.parent
        return node

    def _page_scrolled(self, scroll_y: float) -> None:
        """When the learner scrolls the page itself, the step at its top is where they are
        (the last step once the end is reached). Otherwise the focused cell decides."""
        page = self.query_one("#page", VerticalScroll)
        if self.focused is not page:
            return
        views = list(self.query(StepView))
        if views and scroll_y >= page.max_scroll_y:
            self._enter_step(views[-1].step.id)
            return
        for view in views:
            if view.virtual_region.bottom > scroll_y + 2:
                self._enter_step(view.step.id)
                return

    def _enter_step(self, step_id: str) -> None:
        if step_id == self.current_step:
            return
        self.current_step = step_id
        self._seen.add(step_id)
        self.store.mark_step_seen(self.lesson.id, step_id)
        self.store.set_position(self.lesson.id, step_id)
        self.query_one(StepList).mark(current=step_id)
        self._refresh_done_marks()
        self.refresh_bindings()  # Links (Ctrl+L) is offered when this step has some

    def _done_steps(self) -> set[str]:
        """Steps seen whose cells ran, exercises passed and quizzes were answered."""
        done = set()
        for step in self.lesson.steps:
            if step.id in self._seen and all(
                    b.id in self._ran if isinstance(b, CodeCell)
                    else b.id in self._passed if isinstance(b, Exercise)
                    else b.id in self._answered if isinstance(b, Quiz) else True
                    for b in step.blocks):
                done.add(step.id)
        return done

    def _refresh_done_marks(self) -> None:
        self.query_one(StepList).mark(done=self._done_steps())

    def go_to_step(self, step_id: str) -> None:
        """Scroll the step to the top of the page; focus its first cell."""
        self.post_message(JumpRequested(step_id))

    def go_to_cell(self, cell_id: str) -> None:
        self.post_message(JumpRequested(None, cell_id))

    async def on_jump_requested(self, message: JumpRequested) -> None:
        cell = self._cells_by_id.get(message.cell_id or "")
        step_id = message.step_id or (self.lesson.step_of(message.cell_id).id if cell else None)
        views = list(self.query(StepView))
        index = next((i for i, v in enumerate(views) if v.step.id == step_id), None)
        if index is None:
            return
        await asyncio.gather(*(v.fill() for v in views[:index + 1]))  # steps above too: order
        cells = self._step_cells.get(step_id, [])
        if cell is None and cells:
            cell = cells[0]
        if cell is not None:
            cell.editor.focus(scroll_visible=False)
            self._set_current(cell)
        else:
            self.query_one("#page").focus()
        self._enter_step(step_id)
        target = cell if message.cell_id else views[index]
        self.call_after_refresh(lambda: self.query_one("#page", VerticalScroll).scroll_to_widget(
            target, top=True, animate=False))

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
            (self.current.editor if self.current else self.query_one("#page")).focus()
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
        editor = event.text_area
        if not isinstance(editor, CodeEditor) or editor.read_only:
            return
        cell = editor.parent
        if not isinstance(cell, RunnableCell):
            return
        if editor.error_line is not None:
            editor.show_error_line(None)  # the code changed: the old mark may be wrong
        self._unsaved[cell.cell_id] = (editor.text, cell.original_code)
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self.save_edits)
        cell.refresh_header()

    def save_edits(self) -> None:
        """Write pending edits to the progress store (unedited code is stored as None)."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        for cell_id, (code, original) in self._unsaved.items():
            self.store.save_code(self.lesson.id, cell_id, None if code == original else code)
        self._unsaved.clear()

    def on_unmount(self) -> None:
        self.save_edits()
        self.app.theme_changed_signal.unsubscribe(self)  # its callback would keep this screen alive
        heap.thaw(self.app)

    # -- running ----------------------------------------------------------------------------

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
        """Queue a run of ``cell``; an exercise is checked unless ``as_check`` is False."""
        if cell.running or any(p.cell is cell for p in self._waiting):
            return  # already queued or running: a second press changes nothing
        if isinstance(cell, ExerciseView) and cell.checking:
            return
        request = job_for(cell.block, label=cell.label, code=cell.code, check=as_check is not False)
        pending = _Pending(request, cell)
        self._waiting.append(pending)
        if self._active is not None or len(self._waiting) > 1:
            cell.mark_queued()
        if request.is_check and isinstance(cell, ExerciseView):
            cell.begin_check()  # the editor is read-only from now on
        self._queue.put_nowait(pending)

    @work(group="runs", exit_on_error=False)
    async def _run_loop(self) -> None:
        """Run queued requests one by one; only posts messages."""
        session = self.session

        def report(part, event) -> None:
            if isinstance(event, CellFinished):
                session.observe(event)
            self.post_message(RunReported(self._active.request, part.phase, event))

        executor = Executor(session.client, session.memory, report=report)
        while True:
            pending = await self._queue.get()
            if pending not in self._waiting:
                continue  # dropped after an earlier failure
            self._waiting.remove(pending)
            self._active = pending
            request = pending.request
            self.post_message(RunStarted(request))
            try:
                outcome = await executor.run(request)
            except Exception as err:  # a sandbox failure must not end the loop
                outcome = sandbox_failed(request, err)
            self._active = None
            self.post_message(RunEnded(request, outcome))
            if not outcome.may_go_on:  # like a notebook's "run all": stop at the first failure
                self._drop_waiting("not run: an earlier cell did not finish")

    def _cell(self, cell_id: str) -> RunnableCell | None:
        return self._cells_by_id.get(cell_id)

    def on_run_started(self, message: RunStarted) -> None:
        cell = self._cell(message.request.block_id)
        if cell is None:
            return
        cell.begin_run()
        if isinstance(cell, ExerciseView) and message.request.is_check:
            cell.set_header("checking…")
        self.session.running_label = cell.label
        self._status()

    def on_run_reported(self, message: RunReported) -> None:
        cell = self._cell(message.request.block_id)
        if cell is None:
            return
        event, phase = message.event, message.phase
        if isinstance(event, (CellStarted, CellFinished)):
            if isinstance(event, CellStarted):
                self.session.running_label = cell.label
                self._status()
            return
        if phase == SETUP and isinstance(event, CellFailed):
            cell.show_note(["The lesson's hidden setup code failed:"], "error")
            cell.show_failure(event, mark_line=False)
        elif phase != CHECK:
            before = cell.shown_parts()
            cell.show_event(event)
            if cell.shown_parts() != before:
                self._reveal(cell)
        # CHECK: what the check prints stays hidden; its verdict arrives with RunEnded.

    def _reveal(self, cell: RunnableCell) -> None:
        """Scroll what the learner's own run shows into view (not for "run all above")."""
        if cell is self.current:
            part = cell.last_part()
            self.call_after_refresh(part.scroll_visible, animate=False)

    def on_run_ended(self, message: RunEnded) -> None:
        request, outcome = message.request, message.outcome
        cell = self._cell(request.block_id)
        self.session.running_label = None
        self._status()
        if cell is None:
            return
        if outcome.finished is not None:
            cell.finish_run(outcome.finished, expected_error=outcome.expected_error)
        else:
            cell.skip_run(outcome.feedback or "did not run")
        advice = self._not_run_advice(cell) if outcome.missing_name and not outcome.expected_error else ""
        if isinstance(cell, ExerciseView) and request.is_check:
            cell.end_check(outcome.passed, outcome.feedback + (f"\n{advice}" if advice else ""))
            self.store.record_exercise_attempt(self.lesson.id, cell.cell_id, bool(outcome.passed))
            if outcome.passed:
                self._passed.add(cell.cell_id)
        elif outcome.finished is not None:
            self.store.record_cell_run(self.lesson.id, cell.cell_id, outcome.code_ran)
            self._ran.add(cell.cell_id)
            if advice:
                cell.show_note([advice], "note")
        self._reveal(cell)
        self._refresh_done_marks()

    def _not_run_advice(self, cell: RunnableCell) -> str:
        """After a NameError: say so when cells above have not run in this worker (a
        fresh worker after a restart, or a lesson opened in the middle)."""
        above = self.cells[:self.cells.index(cell)]
        missing = sum(not self.session.memory.has_run(other.cell_id) for other in above)
        if not missing:
            return ""
        if missing == 1:
            return "A cell above this one has not run since the worker started: press F4 to run it, then try again."
        return (f"{missing} cells above this one have not run since the worker started: "
                "press F4 to run them, then try again.")

    def _drop_waiting(self, why: str) -> None:
        """Forget the queued runs now; a handler tells their cells."""
        dropped, self._waiting = self._waiting, []
        if dropped:
            self.post_message(RunsDropped(dropped, why))

    def on_runs_dropped(self, message: RunsDropped) -> None:
        why = message.why
        for pending in message.dropped:
            if isinstance(pending.cell, ExerciseView) and pending.request.is_check:
                pending.cell.cancel_check("Not checked: " + why.removeprefix("not run: ") + ".")
            pending.cell.skip_run(why)

    def _status(self) -> None:
        self.query_one(StatusLine).show(self.session)

    # -- interrupt, restart, reset ------------------------------------------------------------

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "interrupt_running":
            return self._active is not None  # otherwise ctrl+c copies, as everywhere
        if action == "links":
            return bool(self._step_links())
        return True

    def action_interrupt_running(self) -> None:
        self.action_interrupt()

    def action_interrupt(self) -> None:
        if self._active is None and not self._waiting:
            self.app.notify("Nothing is running.", timeout=2)
            return
        self._drop_waiting("not run: interrupted")
        if self._active is not None:
            self._interrupt()

    @work(group="control", exit_on_error=False)
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
        self._drop_waiting("not run: the worker restarted")
        self._restart()

    @work(group="control", exit_on_error=False)
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
                self._unsaved.pop(cell.cell_id, None)
                self.store.save_code(self.lesson.id, cell.cell_id, None)

        self.app.push_screen(ConfirmScreen(f"Put {what} back into {cell.label}? Your edits are lost.",
                                           yes="Reset"), answered)

    def on_exercise_view_solution_revealed(self, message: ExerciseView.SolutionRevealed) -> None:
        self.store.reveal_solution(self.lesson.id, message.cell.cell_id)

    # -- quizzes (widget from the progress feature) ----------------------------------------------

    def on_quiz_view_answered(self, message) -> None:
        self.store.record_quiz_attempt(self.lesson.id, message.quiz_id, message.answer, message.correct)
        self._answered.add(message.quiz_id)
        self._refresh_done_marks()
