"""The quiz widget, keyboard only: choices, free answers, feedback, hints, the answer."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input

from tutor.lessons.model import Hint, Quiz
from tutor.progress import Attempt, QuizRecord
from tutor.ui.widgets.quiz import ChoiceList, QuizView


CHOICE = Quiz(id="dtype", question="Which of these makes a **float32** tensor?", answer="torch.rand(2)", line=1,
              choices=("torch.tensor([1, 2])", "torch.arange(3)", "torch.rand(2)"),
              explain="`torch.rand` draws floats; the others hold integers.")
MULTI = Quiz(id="floats", question="Which make float tensors?", answer=("torch.rand(2)", "torch.zeros(2)"), line=1,
             choices=("torch.arange(2)", "torch.rand(2)", "torch.zeros(2)"))
SHAPE = Quiz(id="shape", question="What is the shape of `torch.zeros(2, 3).T`?", answer="(3, 2)", line=1,
             explain="`.T` swaps the two dimensions.",
             hints=(Hint("`.T` transposes.", 1), Hint("Rows become columns.", 2)))


class QuizApp(App):
    def __init__(self, quiz: Quiz, record: QuizRecord | None = None):
        super().__init__()
        self.quiz = quiz
        self.record = record
        self.answers: list[tuple[str, str, bool]] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield QuizView(self.quiz, self.record)

    def on_mount(self) -> None:
        target = self.query(ChoiceList).first() if self.quiz.choices else self.query_one(Input)
        target.focus()

    def on_quiz_view_answered(self, message: QuizView.Answered) -> None:
        self.answers.append((message.quiz_id, message.answer, message.correct))


async def test_number_key_answers_and_a_wrong_try_offers_the_answer(screen_text):
    app = QuizApp(CHOICE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1")
        await pilot.pause()
        text = screen_text(app)
        assert "✗ Not quite." in text and "press F10 to see the answer" in text
        assert "The answer:" not in text
        assert app.answers == [("dtype", "torch.tensor([1, 2])", False)]
        assert app.query_one(QuizView).has_class("-wrong")

        await pilot.press("f10")
        await pilot.pause()
        text = screen_text(app)
        assert "The answer: torch.rand(2)" in text and "draws floats" in text

        await pilot.press("3")
        await pilot.pause()
        assert "✓ Right!" in screen_text(app)
        assert app.answers[-1] == ("dtype", "torch.rand(2)", True)
        assert app.query_one(QuizView).has_class("-right")


async def test_arrows_and_enter_pick_a_choice(screen_text):
    app = QuizApp(CHOICE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "✓ Right!" in text and "draws floats" in text  # explain comes with the feedback
        assert "Quiz  ✓" in text
        assert app.answers == [("dtype", "torch.rand(2)", True)]


async def test_a_number_past_the_choices_is_ignored():
    app = QuizApp(CHOICE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("7")
        await pilot.pause()
        assert app.answers == []


async def test_multiple_choice_ticks_with_space_and_numbers_then_enter(screen_text):
    app = QuizApp(MULTI)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "space", "enter")  # only torch.rand(2)
        await pilot.pause()
        assert app.answers == [("floats", "torch.rand(2)", False)]
        assert "1 right, 1 missing" in screen_text(app)
        assert "2. [x] torch.rand(2)" in screen_text(app)

        await pilot.press("3", "enter")
        await pilot.pause()
        assert app.answers[-1] == ("floats", "torch.rand(2); torch.zeros(2)", True)
        assert "3. [x] torch.zeros(2)" in screen_text(app)


async def test_multiple_choice_with_nothing_ticked_is_not_an_attempt(screen_text):
    app = QuizApp(MULTI)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        assert app.answers == [] and "Pick a choice first." in screen_text(app)


async def test_free_answer_wrong_then_right(screen_text):
    app = QuizApp(SHAPE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"2x3", "enter")
        await pilot.pause()
        assert "The right sizes, in another order." in screen_text(app)
        await pilot.press(*["backspace"] * 3, *"torch.Size([3, 2])", "enter")
        await pilot.pause()
        text = screen_text(app)
        assert "✓ Right!" in text and ".T swaps the two dimensions." in text
        assert app.answers == [("shape", "2x3", False), ("shape", "torch.Size([3, 2])", True)]


async def test_an_unreadable_answer_gets_a_note_and_is_not_counted(screen_text):
    app = QuizApp(SHAPE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"three by two", "enter")
        await pilot.pause()
        assert "Write a shape, e.g. (2, 3)." in screen_text(app)
        await pilot.press("ctrl+a", "enter")
        await pilot.pause()
        assert app.answers == []
        assert not app.query_one(QuizView).wrong_tries


async def test_hints_one_at_a_time(screen_text):
    app = QuizApp(SHAPE)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "F3 hint (0/2)" in screen_text(app)
        await pilot.press("f3")
        await pilot.pause()
        text = screen_text(app)
        assert "Hint 1/2." in text and "Rows become" not in text and "F3 hint (1/2)" in text
        await pilot.press("ctrl+t")
        await pilot.pause()
        text = screen_text(app)
        assert "Hint 2/2. Rows become columns." in text and "F3 hint" not in text
        await pilot.press("f3")  # no more hints: nothing changes
        await pilot.pause()
        assert screen_text(app).count("Hint ") == 2


async def test_a_solved_quiz_does_not_reveal_the_answer(screen_text):
    app = QuizApp(CHOICE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("1")  # wrong: F10 is offered
        await pilot.pause()
        quiz = app.query_one(QuizView)
        assert quiz.check_action("show_answer", ()) is True
        await pilot.press("3")  # right: nothing left to reveal
        await pilot.pause()
        assert quiz.solved and quiz.check_action("show_answer", ()) is False
        await pilot.press("f10")
        await pilot.pause()
        assert not quiz.answer_shown and "The answer:" not in screen_text(app)
        assert "F10" not in screen_text(app)


async def test_a_solved_quiz_answered_wrong_again_is_not_solved_as_its_record_says(screen_text):
    record = QuizRecord((Attempt("torch.rand(2)", True, 1.0),), True)
    app = QuizApp(CHOICE, record)
    async with app.run_test(size=(80, 24)) as pilot:
        quiz = app.query_one(QuizView)
        assert quiz.solved and "Quiz  ✓" in screen_text(app)
        await pilot.press("1")
        await pilot.pause()
        # the progress record's rule (the latest try counts), so the lesson and the home
        # screen agree with what the quiz shows, now and when the lesson is opened again
        from tutor.progress.records import lesson_snapshot

        tried = lesson_snapshot("basics", None).with_quiz_attempt("dtype", "torch.rand(2)", True, 1.0)
        tried = tried.with_quiz_attempt("dtype", "torch.tensor([1, 2])", False, 2.0)
        assert not quiz.solved and not tried.quizzes["dtype"].correct
        assert "Quiz  ✓" not in screen_text(app) and quiz.has_class("-wrong")
        assert quiz.check_action("show_answer", ()) is True


async def test_the_answer_is_not_shown_before_a_try(screen_text):
    app = QuizApp(SHAPE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f10")
        await pilot.pause()
        assert "The answer" not in screen_text(app)
        assert not app.query_one(QuizView).answer_shown


async def test_a_right_answer_from_before_is_shown(screen_text):
    record = QuizRecord((Attempt("(3, 2)", True, 1.0),), True)
    app = QuizApp(SHAPE, record)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
        assert "Quiz  ✓" in text and "✓ Answered right: (3, 2)" in text


async def test_a_wrong_answer_from_before_allows_the_answer_at_once(screen_text):
    record = QuizRecord((Attempt("(2, 3)", False, 1.0),), False)
    app = QuizApp(SHAPE, record)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "Last time you answered (2, 3), which was not right." in screen_text(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "The answer: (3, 2)" in screen_text(app)


class QuizBelowProseApp(QuizApp):
    """The quiz under a page of prose, scrolled so that its answer box is the last row seen."""

    def compose(self) -> ComposeResult:
        from textual.widgets import Static

        with VerticalScroll():
            yield Static("\n".join(f"prose line {n}" for n in range(40)))
            yield QuizView(self.quiz, self.record)


async def test_what_answering_shows_below_the_view_is_scrolled_into_it(screen_text):
    app = QuizBelowProseApp(SHAPE)
    async with app.run_test(size=(80, 16)) as pilot:
        await pilot.pause()
        box = app.query_one(Input)
        box.scroll_visible(animate=False)  # the answer box at the bottom of the view
        await pilot.pause()
        assert screen_text(app).rstrip().endswith("F3 hint (0/2)")  # nothing of the quiz below it seen
        for keys, shown in ((["f3"], "Hint 1/2."), ([*"(2, 3)", "enter"], "✗"), (["f10"], "The answer: (3, 2)"),
                            (["ctrl+u", *"(3, 2)", "enter"], "✓")):
            await pilot.press(*keys)
            for _ in range(20):
                await pilot.pause(0.02)
                if shown in screen_text(app):
                    break
            assert shown in screen_text(app), f"{keys}: {shown!r} not in view"


def test_quiz_snapshot_80x24(snap_compare):
    assert snap_compare(QuizApp(CHOICE), terminal_size=(80, 24), press=["1", "f10"])


def test_quiz_and_review_import_neither_torch_nor_checks_nor_the_sandbox():
    import json
    import subprocess
    import sys

    code = ("import json, sys\nimport tutor.ui.widgets.quiz, tutor.ui.screens.review\n"
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout))
    assert not {m for m in loaded if m == "torch" or m.startswith(("torch.", "tutor.sandbox"))}
    assert "tutor.checks" not in loaded
