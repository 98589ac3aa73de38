"""The lesson as one scrolling page: its intro, then its steps. Only the steps near the
view are built: the others are placeholders of about their height (``step.py``),
filled when they come within a screen of the view, when a jump lands on them, or when
one of their cells runs. So a lesson opens, and stays, as fast as a short one.

It knows where the learner is: the step (by focus, by scrolling the page itself, by a
jump; said with :class:`~tutor.ui.messages.StepEntered`) and the current cell (the one
F5 runs; its border says so).

    page = LessonPage(lesson, progress, start_step="tensors", focus_cell=None, id="page")
    page.cells; page.cell(cell_id); page.step_cells(step_id); page.current
    page.begin()                          # on mount: the start step's first cell is current
    page.jump(step_id=..., cell_id=...)   # a newer jump drops an older one still going
    page.jump_by(1)                       # the next step
    page.bring(cell)                      # focus a cell and show it (jumping if not built)
    await page.fill_step_of(cell)         # its widgets are there (a run shows in them)
    page.settled                          # the steps in and near the view are filled

The cell widgets exist from the start, mounted or not (cheap until mounted): runs,
"run all above" and numbering need them all.
"""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.events import DescendantFocus

from tutor.lessons.model import CodeCell, Exercise, Lesson, Prose as ProseBlock, Quiz, Step
from tutor.ui import heap
from tutor.ui.messages import StepEntered
from tutor.ui.widgets.anchored_scroll import AnchoredScroll
from tutor.ui.widgets.cell import CodeCellView, RunnableCell
from tutor.ui.widgets.exercise import ExerciseView
from tutor.ui.widgets.prose import Prose
from tutor.ui.widgets.quiz import QuizView
from tutor.ui.widgets.step import StepView

NEAR = 1.0  # steps within this many view heights above or below the view are filled


class LessonPage(AnchoredScroll):
    DEFAULT_CSS = """
    LessonPage { height: 1fr; }
    LessonPage > .lesson-intro { padding: 1 1 0 1; }
    """

    def __init__(self, lesson: Lesson, progress, *, start_step: str | None = None, focus_cell: str | None = None,
                 **kwargs) -> None:
        """Every cell widget is made here, unmounted; ``progress`` gives saved code and records."""
        super().__init__(**kwargs)
        self.lesson = lesson
        self.progress = progress  # a LessonProgress snapshot: saved code, records
        self.cells: list[RunnableCell] = []
        self._cells_by_id: dict[str, RunnableCell] = {}
        self._step_cells: dict[str, list[RunnableCell]] = {}
        for step in lesson.steps:
            for block in step.blocks:
                if isinstance(block, (CodeCell, Exercise)):
                    cell = self._make_cell(block, len(self.cells) + 1)
                    self.cells.append(cell)
                    self._cells_by_id[block.id] = cell
                    self._step_cells.setdefault(step.id, []).append(cell)
        self.focus_cell = focus_cell
        self.start_step = self._start_step(start_step)
        self.current_step: str | None = None
        self.current: RunnableCell | None = None  # the cell the learner works on
        self.settled = False  # the steps in and near the view are filled, nothing is being filled
        self._views: dict[str, StepView] = {}
        self._filling = 0  # fills under way
        self._check_pending = False

    def _start_step(self, asked: str | None) -> str | None:
        """Where the lesson opens: the step of the cell to focus, the step asked for, or
        where the learner was (else the first)."""
        ids = [step.id for step in self.lesson.steps]
        of_cell = self.lesson.step_of(self.focus_cell) if self.focus_cell else None
        for step_id in (of_cell.id if of_cell else None, asked, self.progress.position):
            if step_id in ids:
                return step_id
        return ids[0] if ids else None

    # -- the widgets ---------------------------------------------------------------------

    def cell(self, cell_id: str | None) -> RunnableCell | None:
        """The cell widget of ``cell_id``, if the lesson has it."""
        return self._cells_by_id.get(cell_id or "")

    def step_cells(self, step_id: str) -> list[RunnableCell]:
        """The cell widgets of a step, in order."""
        return self._step_cells.get(step_id, [])

    def step_view(self, step_id: str | None) -> StepView | None:
        """The ``StepView`` of ``step_id`` (a placeholder until filled)."""
        return self._views.get(step_id or "")

    def step_of(self, widget) -> StepView | None:
        """The step a widget of the page is in."""
        node = widget
        while node is not None and not isinstance(node, StepView):
            node = node.parent
        return node

    def _make_cell(self, block, number: int) -> RunnableCell:
        """The widget of a code cell or an exercise, with the learner's saved code and record."""
        saved = self.progress.code.get(block.id)
        if isinstance(block, Exercise):
            record = self.progress.exercises.get(block.id)
            return ExerciseView(block, number, saved if saved is not None else block.starter,
                                attempts=record.attempts if record else 0,
                                passed=bool(record and record.passed),
                                solution_revealed=bool(record and record.solution_revealed),
                                id=f"cell-{block.id}")
        return CodeCellView(block, number, saved if saved is not None else block.code, id=f"cell-{block.id}")

    def _step_widgets(self, step: Step) -> list:
        """The widgets of a step's blocks, its cells the ones made up front."""
        cells = iter(self.step_cells(step.id))
        widgets = []
        for block in step.blocks:
            if isinstance(block, (CodeCell, Exercise)):
                widgets.append(next(cells))
            elif isinstance(block, Quiz):
                widgets.append(QuizView(block, self.progress.quizzes.get(block.id)))
            elif isinstance(block, ProseBlock):
                widgets.append(Prose(block.text))
        return widgets

    def compose(self) -> ComposeResult:
        """The intro, then a ``StepView`` per step; only the start step is filled."""
        if self.lesson.intro.strip():
            yield Prose(self.lesson.intro, classes="lesson-intro")
        for index, step in enumerate(self.lesson.steps):
            view = StepView(step, index + 1, lambda step=step: self._step_widgets(step),
                            filled=step.id == self.start_step)
            self._views[step.id] = view
            yield view

    def on_mount(self) -> None:
        """Watch scrolling, hear theme changes, hold the start step at the top, fill what is
        near."""
        self.watch(self, "scroll_y", self._scrolled, init=False)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        view = self.step_view(self.start_step)
        if view is not None and view.step is not self.lesson.steps[0]:
            self.hold(view, row=0)  # the first frame shows the step the lesson opens at
        self._check_near()

    def on_unmount(self) -> None:
        self.app.theme_changed_signal.unsubscribe(self)  # its callback would keep the page alive

    def on_resize(self) -> None:
        """More or less of the page is near the view now."""
        self._check_near()

    def _theme_changed(self, _theme) -> None:
        """A new theme: redraw the borders that carry a tone (current, failed, passed) in
        its colours."""
        for cell in self.cells:
            if cell.is_mounted and cell.border_tone():
                cell.apply_border()

    def begin(self) -> None:
        """Where the learner starts: the start step (built with the page) and its first
        cell, current from the first frame (F5 and F4 work at once); or the cell asked for."""
        start = self.start_step
        if start is None:
            return
        cells = self.step_cells(start)
        if self.focus_cell is not None:
            self.jump(cell_id=self.focus_cell)
        elif cells:
            cells[0].editor.focus(scroll_visible=False)
            self.set_current(cells[0])
        elif start != self.lesson.steps[0].id:
            self.focus(scroll_visible=False)
        self.enter_step(start)

    # -- filling steps ---------------------------------------------------------------------

    def shows(self, cell: RunnableCell) -> bool:
        """Whether the cell's widgets are mounted (its step is filled)."""
        return cell.is_mounted

    async def fill_step_of(self, cell: RunnableCell) -> None:
        """Make sure the cell's step is filled (its widgets mounted)."""
        view = self.step_view(self._step_id_of(cell))
        if view is None:
            return
        if view.filled:
            await view.fill()  # a fill may be under way (the page's own): wait until it is mounted
        else:
            await self._fill([view])

    async def _fill(self, views: list[StepView]) -> None:
        """Fill ``views``; what the learner reads stays where it is on screen."""
        if any(not view.filled and view.virtual_region.y < self.scroll_y for view in views):
            self.keep_view()
        self._filling += 1
        self.settled = False
        try:
            await asyncio.gather(*(view.fill() for view in views))
        finally:
            self._filling -= 1
            if not self._filling:
                self.call_after_refresh(self._check_near)

    def _check_near(self) -> None:
        """Fill, after the next refresh, the steps that came near the view."""
        self.settled = False
        if not self._check_pending:
            self._check_pending = True
            self.call_after_refresh(self._fill_near)

    async def _fill_near(self) -> None:
        """Fill the steps near the view; when none is left, the page is settled and its
        widgets frozen."""
        self._check_pending = False
        if self._filling:
            return  # checked again when those fills end
        near = [view for view in self._near() if not view.filled]
        if not near:
            self.settled = True
            heap.freeze_long_lived()  # the page's widgets live as long as it is open
            return
        await self._fill(near)

    def _near(self) -> list[StepView]:
        """The steps within NEAR view heights of the view, and those either side of the
        learner's step (so that Tab reaches the next one)."""
        height = self.scrollable_content_region.height
        top = self.scroll_y - NEAR * height
        bottom = self.scroll_y + (1 + NEAR) * height
        views = list(self._views.values())
        near = [view for view in views if view.virtual_region.bottom >= top and view.virtual_region.y <= bottom]
        current = self.step_view(self.current_step)
        if current is not None:
            index = views.index(current)
            near += views[max(0, index - 1):index + 2]
        return near

    # -- what the learner reads stays in place -----------------------------------------------

    def keep_view(self) -> None:
        """Keep what the learner reads where it is on screen while the page changes above
        it (steps filled, the output of "run all above"), until the learner moves: scrolls,
        jumps, or works on something above it (:meth:`let_go_for`)."""
        if self.held is None:
            anchor = self._first_in_view()
            if anchor is not None:
                self.hold(anchor)

    def let_go_for(self, widget) -> None:
        """The learner works on ``widget`` (focused, ran it): if it is above what is kept in
        place, let the page go, so that what it shows next pushes the page down as usual."""
        held = self.held
        if held is None:
            return
        step = self.step_of(widget) or self.step_view(self._step_id_of(widget))
        views = list(self._views.values())
        if step is not None and held in views and views.index(step) < views.index(held):
            self.release()

    def is_above_view(self, cell: RunnableCell) -> bool:
        """Whether all of the cell is above the top of the view."""
        widget = cell if cell.is_mounted else self.step_view(self._step_id_of(cell))
        return widget is not None and widget.region.bottom <= self.region.y

    def _first_in_view(self) -> StepView | None:
        """The first step that starts in the view (what changes above it cannot move it),
        else the one across its top."""
        top = round(self.scroll_y)
        across = None
        for view in self._views.values():
            region = view.virtual_region
            if region.y >= top:
                return view
            if region.bottom > top:
                across = view
        return across

    def _step_id_of(self, widget) -> str | None:
        """The id of the step a cell widget belongs to (None for any other widget)."""
        step = self.lesson.step_of(widget.cell_id) if isinstance(widget, RunnableCell) else None
        return step.id if step else None

    # -- where the learner is --------------------------------------------------------------

    def enter_step(self, step_id: str) -> None:
        """The learner is in ``step_id`` now (posts StepEntered when that is news)."""
        if step_id != self.current_step:
            self.current_step = step_id
            self.post_message(StepEntered(self, step_id))
            self._check_near()

    def set_current(self, cell: RunnableCell) -> None:
        """Make ``cell`` the current one (F5 runs it; its border says so)."""
        if cell is self.current:
            return
        if self.current is not None:
            self.current.set_current(False)
        other_kind = type(self.current) is not type(cell)
        self.current = cell
        cell.set_current(True)
        if other_kind:
            self.refresh_bindings()  # the footer names F5 after the kind of cell (Run, Check)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        """Focus inside a cell makes it current; focus inside a step makes it the learner's step."""
        node = event.widget
        while node is not None and not isinstance(node, RunnableCell):
            node = node.parent
        if isinstance(node, RunnableCell):
            self.set_current(node)
        view = self.step_of(event.widget)
        if view is not None:
            self.let_go_for(view)
            self.enter_step(view.step.id)

    def bring(self, cell: RunnableCell) -> None:
        """Make ``cell`` current: focus it and scroll it into view (a jump when its step is
        not built yet)."""
        if not cell.is_mounted:
            self.jump(cell_id=cell.cell_id)
            return
        cell.editor.focus()
        self.set_current(cell)
        cell.scroll_visible()

    def _scrolled(self, scroll_y: float) -> None:
        """Steps that come near the view are filled. When the learner scrolls the page
        itself, the step at its top is where they are (the last step once the end is
        reached); otherwise the focused widget decides."""
        self._check_near()
        if self.screen.focused is not self:
            return
        views = list(self._views.values())
        if views and scroll_y >= self.max_scroll_y:
            self.enter_step(views[-1].step.id)
            return
        for view in views:
            if view.virtual_region.bottom > scroll_y + 2:
                self.enter_step(view.step.id)
                return

    # -- jumps -------------------------------------------------------------------------------

    def jump_by(self, steps: int) -> None:
        """Jump to the step ``steps`` after the learner's (before it, when negative)."""
        ids = list(self._views)
        if ids:
            index = ids.index(self.current_step) if self.current_step in ids else 0
            self.jump(step_id=ids[max(0, min(len(ids) - 1, index + steps))])

    def jump(self, step_id: str | None = None, cell_id: str | None = None) -> None:
        """Bring a step (its top) or a cell into view and focus it (a step: its first
        cell, else the page). A newer jump drops this one if it is still filling."""
        self._jump(step_id, cell_id)

    @work(exclusive=True, group="jump", exit_on_error=False)
    async def _jump(self, step_id: str | None, cell_id: str | None) -> None:
        """``jump``'s worker: hold the step at the top, fill it, focus, then hold the cell
        (if asked) at the top."""
        cell = self.cell(cell_id)
        if step_id is None and cell is not None:
            step = self.lesson.step_of(cell.cell_id)
            step_id = step.id if step else None
        view = self.step_view(step_id)
        if view is None:
            return
        self.hold(view, row=0)  # at the top, whatever fills above it meanwhile
        await self._fill([view])
        if cell is None and self.step_cells(view.step.id):
            cell = self.step_cells(view.step.id)[0]
        if cell is not None:
            cell.editor.focus(scroll_visible=False)
        else:
            self.focus(scroll_visible=False)
        self.enter_step(view.step.id)
        if cell_id and cell is not None:
            await self.wait_for_refresh()  # the step is laid out: the cell's place in it is known
            self.hold(view, row=-(cell.virtual_region_with_margin.y + view.styles.gutter.top))
