"""The review screen: asks the quizzes and exercises that are due (``tutor.review``).

    ReviewScreen(store=None, catalog=None)     defaults: the app's ``store`` and ``catalog``
    ReviewScreen.OpenExercise(lesson_id, exercise_id, step_id)

A quiz is asked again with a fresh ``QuizView``; its first answer is the review's result
(``store.record_review(item, correct, answer)``: up a box when right, back to box 1 when
wrong); retries after that are practice. An exercise cannot be checked here: Enter posts
``OpenExercise`` (it bubbles to the app, which opens the lesson at ``step_id``), and a
pass in the lesson counts as its review (the store does that). Items whose lesson or
quiz is gone from the course are dropped from the schedule. F6/Ctrl+N goes to the next
item, Esc back.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from tutor.review import ReviewItem
from tutor.ui import keys
from tutor.ui.widgets.quiz import ChoiceList, QuizView


class ReviewScreen(Screen):
    DEFAULT_CSS = """
    ReviewScreen { layout: vertical; }
    ReviewScreen > .review-title { height: auto; padding: 1 2 0 2; text-style: bold; color: $accent; }
    ReviewScreen > .review-where { height: auto; padding: 0 2; color: $text-muted; }
    ReviewScreen > VerticalScroll { height: 1fr; padding: 0 2; }
    ReviewScreen .review-exercise { height: auto; margin: 1 0; padding: 0 1; border-left: tall $secondary; }
    ReviewScreen .review-exercise Button { margin-top: 1; }
    ReviewScreen > .review-keys { height: auto; padding: 0 2; color: $text-muted; }
    """
    BINDINGS = [
        Binding(keys.RUN_NEXT, "next", "Next"),
        Binding(keys.BACK, "back", "Back"),
    ]

    class OpenExercise(Message):
        """The learner wants to redo an exercise that is due: open its lesson at ``step_id``."""

        def __init__(self, lesson_id: str, exercise_id: str, step_id: str | None) -> None:
            super().__init__()
            self.lesson_id = lesson_id
            self.exercise_id = exercise_id
            self.step_id = step_id

    def __init__(self, store=None, catalog=None) -> None:
        """Without ``store`` or ``catalog`` the app's are used (tests give their own)."""
        super().__init__()
        self._store = store
        self._catalog = catalog
        self.items: list[ReviewItem] = []
        self.index = 0
        self.answered: dict[str, bool] = {}  # item key -> the review's result

    @property
    def store(self):
        return self._store if self._store is not None else self.app.store

    @property
    def catalog(self):
        return self._catalog if self._catalog is not None else self.app.catalog

    def compose(self) -> ComposeResult:
        yield Static("Review", classes="review-title")
        yield Static("", classes="review-where", markup=False)  # lesson and step titles
        yield VerticalScroll(id="review-body")
        yield Static("", classes="review-keys")
        yield Footer()

    async def on_mount(self) -> None:
        """Take the due items whose lesson and block still exist, and show the first."""
        self.items = [item for item in self.store.due_reviews() if self._resolve(item) is not None]
        await self.show_item()

    def _resolve(self, item: ReviewItem):
        """(lesson, step, block) of an item; drops it from the schedule when it is gone."""
        lesson = next((lesson for lesson in self.catalog.lessons if lesson.id == item.lesson_id), None)
        blocks = (lesson.quizzes() if item.kind == "quiz" else lesson.exercises()) if lesson else []
        block = next((b for b in blocks if b.id == item.item_id), None)
        if block is None:
            if lesson is not None:  # the lesson is here but the item was removed from it
                self.store.drop_review(item)
            return None
        return lesson, lesson.step_of(block.id), block

    @property
    def current(self) -> ReviewItem | None:
        """The item being reviewed; None once every item was shown."""
        return self.items[self.index] if self.index < len(self.items) else None

    async def show_item(self) -> None:
        """Replace the body with the current item: a quiz to answer, or a button to its exercise."""
        body = self.query_one("#review-body", VerticalScroll)
        await body.remove_children()
        item = self.current
        if item is None:
            await self._show_summary(body)
            return
        lesson, step, block = self._resolve(item)
        self.query_one(".review-title", Static).update(f"Review · {self.index + 1} of {len(self.items)}")
        where = f"from {lesson.title}" + (f" › {step.title}" if step else "")
        if item.kind == "quiz":
            self.query_one(".review-where", Static).update(f"Quiz {where} (box {item.box})")
            await body.mount(QuizView(block, None))
            self._keys("answer it · F6 next · Esc back")
            self._focus_quiz()
        else:
            self.query_one(".review-where", Static).update(f"Exercise {where} (box {item.box})")
            card = Vertical(
                Static("Last time you needed the solution. Solve it again, without it, in the lesson: "
                       "passing it counts as this review."),
                Button("Open the exercise", id="open-exercise", variant="primary"),
                classes="review-exercise",
            )
            await body.mount(card)
            self.query_one("#open-exercise", Button).focus()
            self._keys("Enter opens the lesson at the exercise · F6 skip · Esc back")

    async def _show_summary(self, body: VerticalScroll) -> None:
        """The end: how many quizzes were right, or that nothing was due."""
        self.query_one(".review-title", Static).update("Review · done")
        self.query_one(".review-where", Static).update("")
        if self.items:
            right = sum(self.answered.values())
            text = (f"Reviewed {len(self.answered)} quiz{'zes' * (len(self.answered) != 1)}: {right} right. "
                    "Right answers come back later and later; wrong ones tomorrow.")
        else:
            text = "Nothing to review now. Quizzes you get wrong come back a day later."
        await body.mount(Static(text))
        self._keys("Esc back")

    def _keys(self, text: str) -> None:
        """Set the line of keys under the body."""
        self.query_one(".review-keys", Static).update(text)

    def _focus_quiz(self) -> None:
        """Focus the quiz's choices, or its text box when it has no choices."""
        for widget in self.query(ChoiceList).results():
            widget.focus()
            return
        for widget in self.query(Input).results():
            widget.focus()
            return

    def on_quiz_view_answered(self, message: QuizView.Answered) -> None:
        """Record the first answer to each item as its review; later ones are practice."""
        message.stop()
        item = self.current
        if item is None or item.key in self.answered:
            return  # a retry after the review's answer: practice only
        self.answered[item.key] = message.correct
        self.store.record_review(item, message.correct, message.answer)
        self._keys("F6 next" + ("" if message.correct else " · F10 shows the answer") + " · Esc back")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """The "Open the exercise" button: post ``OpenExercise`` (the app opens its lesson there)."""
        if event.button.id == "open-exercise" and self.current is not None:
            event.stop()
            item = self.current
            _, step, _ = self._resolve(item)
            self.post_message(self.OpenExercise(item.lesson_id, item.item_id, step.id if step else None))

    async def action_next(self) -> None:
        """F6: the next item (skipping this one if unanswered), or the summary."""
        if self.current is not None:
            self.index += 1
            await self.show_item()

    def action_back(self) -> None:
        self.app.pop_screen()
