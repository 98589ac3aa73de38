"""The lesson as one scrolling page: its intro, then its steps, mounted one per frame so
the first shows at once. It knows which step the learner is in (by focus, by scrolling
the page itself, by a jump) and says so with :class:`~tutor.ui.messages.StepEntered`.

    page = LessonPage(lesson, progress, id="page")
    page.cells; page.cell(cell_id); page.step_cells(step_id)
    page.jump(step_id=..., cell_id=...)   # a newer jump drops an older one still going
    page.loaded                            # every step mounted

The cell widgets exist from the start (cheap until mounted): runs, "run all above" and
numbering need them all.
"""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.events import DescendantFocus

from tutor.lessons.model import CodeCell, Exercise, Lesson, Prose as ProseBlock, Quiz, Step
from tutor.ui import heap
from tutor.ui.messages import StepEntered
from tutor.ui.widgets.cell import CodeCellView, RunnableCell
from tutor.ui.widgets.exercise import ExerciseView
from tutor.ui.widgets.prose import Prose
from tutor.ui.widgets.quiz import QuizView
from tutor.ui.widgets.step import StepView


class LessonPage(VerticalScroll):
    DEFAULT_CSS = """
    LessonPage { height: 1fr; }
    LessonPage > .lesson-intro { padding: 1 1 0 1; }
    """

    def __init__(self, lesson: Lesson, progress, **kwargs) -> None:
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
        self.loaded = False  # every step mounted
        self.current_step: str | None = None

    # -- the widgets ---------------------------------------------------------------------

    def cell(self, cell_id: str | None) -> RunnableCell | None:
        return self._cells_by_id.get(cell_id or "")

    def step_cells(self, step_id: str) -> list[RunnableCell]:
        return self._step_cells.get(step_id, [])

    def step_of(self, widget) -> StepView | None:
        """The step a widget of the page is in."""
        node = widget
        while node is not None and not isinstance(node, StepView):
            node = node.parent
        return node

    def _make_cell(self, block, number: int) -> RunnableCell:
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
        if self.lesson.intro.strip():
            yield Prose(self.lesson.intro, classes="lesson-intro")
        for index, step in enumerate(self.lesson.steps):
            yield StepView(step, index + 1, lambda step=step: self._step_widgets(step), filled=index == 0)

    def on_mount(self) -> None:
        self.watch(self, "scroll_y", self._scrolled, init=False)
        self.call_after_refresh(self._fill_next_step)

    async def _fill_next_step(self) -> None:
        """Mount the next empty step, one per frame, so the first one shows at once."""
        view = next((v for v in self.query_children(StepView) if not v.filled), None)
        if view is None:
            self.loaded = True
            heap.freeze_long_lived()  # the page's widgets live as long as it is open
            return
        await view.fill()
        self.call_after_refresh(self._fill_next_step)

    # -- where the learner is --------------------------------------------------------------

    def enter_step(self, step_id: str) -> None:
        """The learner is in ``step_id`` now (posts StepEntered when that is news)."""
        if step_id != self.current_step:
            self.current_step = step_id
            self.post_message(StepEntered(self, step_id))

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        view = self.step_of(event.widget)
        if view is not None:
            self.enter_step(view.step.id)

    def _scrolled(self, scroll_y: float) -> None:
        """When the learner scrolls the page itself, the step at its top is where they are
        (the last step once the end is reached). Otherwise the focused widget decides."""
        if self.screen.focused is not self:
            return
        views = list(self.query_children(StepView))
        if views and scroll_y >= self.max_scroll_y:
            self.enter_step(views[-1].step.id)
            return
        for view in views:
            if view.virtual_region.bottom > scroll_y + 2:
                self.enter_step(view.step.id)
                return

    # -- jumps -------------------------------------------------------------------------------

    def jump(self, step_id: str | None = None, cell_id: str | None = None) -> None:
        """Bring a step (its top) or a cell into view and focus it (a step: its first
        cell, else the page). A newer jump drops this one if it is still mounting."""
        self._jump(step_id, cell_id)

    @work(exclusive=True, group="jump", exit_on_error=False)
    async def _jump(self, step_id: str | None, cell_id: str | None) -> None:
        cell = self.cell(cell_id)
        if step_id is None and cell is not None:
            step = self.lesson.step_of(cell.cell_id)
            step_id = step.id if step else None
        views = list(self.query_children(StepView))
        index = next((i for i, v in enumerate(views) if v.step.id == step_id), None)
        if index is None:
            return
        await asyncio.gather(*(v.fill() for v in views[:index + 1]))  # steps above too: order
        if cell is None and self.step_cells(step_id):
            cell = self.step_cells(step_id)[0]
        if cell is not None:
            cell.editor.focus(scroll_visible=False)
        else:
            self.focus()
        self.enter_step(step_id)
        target = cell if cell_id else views[index]
        self.call_after_refresh(lambda: self.scroll_to_widget(target, top=True, animate=False))
