"""A quiz: the question as Markdown, choices (number keys, or arrows and Enter; Space
toggles when several answers are right) or a free-answer input, feedback with the
quiz's ``explain``, hints one at a time, and after a wrong try the answer on request.

    QuizView(quiz: Quiz, record: QuizRecord | None = None)
    QuizView.Answered(quiz_id: str, answer: str, correct: bool)   posted for every graded try

Keyboard only: 1-9 pick (or toggle) a choice, Up/Down move, Space toggles, Enter
answers; F3 or Ctrl+T shows the next hint; F10 or Ctrl+S shows the answer after a wrong
try. Responses that cannot be read as an answer (empty, not a number, not a shape) get a
note and are not counted. Grading is ``tutor.grading`` (pure); this module never imports
torch, ``tutor.checks`` or the sandbox.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from tutor.grading import Grade, answer_text, correct_answer_text, grade
from tutor.lessons.model import Quiz
from tutor.progress import QuizRecord
from tutor.ui import keys
from tutor.ui.widgets.keys_in_order import KeysInOrder

REVEAL_LOOKS, REVEAL_WAIT = 10, 0.02  # what an answer shows is scrolled to for 0.2 s as it fills


def _code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    fence = "``" if "`" in text else "`"
    return f"{fence} {text} {fence}" if fence == "``" else f"`{text}`"


class ChoiceList(OptionList):
    """The choices of a quiz. One answer: Enter (or its number) answers. Several answers:
    Space (or a number) toggles, Enter answers with the ticked set."""

    DEFAULT_CSS = """
    ChoiceList, ChoiceList:focus { border: none; padding: 0; background: transparent; }
    """
    BINDINGS = [
        Binding("space", "toggle", "Toggle", show=False),
        *(Binding(str(n), f"number({n})", show=False) for n in range(1, 10)),
    ]

    class Picked(Message):
        """The learner answered with ``choices`` (one, or every ticked one)."""

        def __init__(self, choices: tuple[str, ...]) -> None:
            super().__init__()
            self.choices = choices

    def __init__(self, choices: tuple[str, ...], multiple: bool, **kwargs) -> None:
        """``multiple``: several answers may be right, and each choice has a box to tick."""
        self.choices = choices
        self.multiple = multiple
        self.ticked: set[int] = set()
        super().__init__(*(Option(self._prompt(i)) for i in range(len(choices))), markup=False, **kwargs)

    def _prompt(self, index: int) -> Text:
        """``2. [x] text``: the choice's number, its box when several may be ticked, its text."""
        box = ("[x] " if index in self.ticked else "[ ] ") if self.multiple else ""
        return Text(f"{index + 1}. {box}{self.choices[index]}")

    def action_toggle(self) -> None:
        """Space: tick or untick the highlighted choice (several answers only)."""
        if self.multiple and self.highlighted is not None:
            self._toggle(self.highlighted)

    def _toggle(self, index: int) -> None:
        """Tick or untick choice ``index`` and redraw its box."""
        self.ticked ^= {index}
        self.replace_option_prompt_at_index(index, self._prompt(index))

    def action_number(self, number: int) -> None:
        """A number key: answer with that choice, or tick it when several may be right (a
        bell past the last)."""
        index = number - 1
        if index >= len(self.choices):
            self.app.bell()
            return
        self.highlighted = index
        if self.multiple:
            self._toggle(index)
        else:
            self.post_message(self.Picked((self.choices[index],)))

    def action_select(self) -> None:
        """Enter: answer with the highlighted choice, or with every ticked one."""
        if self.multiple:
            self.post_message(self.Picked(tuple(self.choices[i] for i in sorted(self.ticked))))
        elif self.highlighted is not None:
            self.post_message(self.Picked((self.choices[self.highlighted],)))

    async def _on_click(self, event: events.Click) -> None:
        """A click: ticks the choice when several may be right, else answers with it."""
        clicked = event.style.meta.get("option")
        if clicked is None:
            return
        self.highlighted = clicked
        if self.multiple:
            self._toggle(clicked)
        else:
            self.action_select()


class AnswerInput(KeysInOrder, Input):
    """The free-answer box (backspace and arrows stay in order with what is typed)."""


class QuizView(Vertical):
    DEFAULT_CSS = """
    QuizView {
        height: auto;
        margin: 1 0;
        padding: 0 1;
        border-left: tall $accent 60%;
    }
    QuizView.-right { border-left: tall $success; }
    QuizView.-wrong { border-left: tall $error; }
    QuizView > .quiz-title { color: $accent; text-style: bold; height: 1; }
    QuizView > Markdown { margin: 0; padding: 0; }
    QuizView > ChoiceList { margin: 0; }
    QuizView > AnswerInput { margin: 0; width: 1fr; max-width: 60; }
    QuizView > .quiz-keys { color: $text-muted; height: auto; }
    QuizView > .quiz-hints { height: auto; }
    QuizView > .quiz-hints > Markdown { margin: 0; padding: 0 1; background: $boost; }
    QuizView > .quiz-feedback { height: auto; display: none; }
    QuizView > .quiz-feedback.-shown { display: block; }
    QuizView > .quiz-feedback.-right { color: $success; }
    QuizView > .quiz-feedback.-wrong { color: $error; }
    QuizView > .quiz-feedback.-note { color: $warning; }
    QuizView > .quiz-answer { height: auto; display: none; padding: 0 1; background: $boost; }
    QuizView > .quiz-answer.-shown { display: block; }
    """
    BINDINGS = [
        Binding(keys.HINT, "hint", "Hint"),
        Binding(keys.SOLUTION, "show_answer", "Show answer"),
    ]

    class Answered(Message):
        """A graded try: ``answer`` as stored (a choice's text, or what was typed)."""

        def __init__(self, quiz_id: str, answer: str, correct: bool) -> None:
            super().__init__()
            self.quiz_id = quiz_id
            self.answer = answer
            self.correct = correct

    def __init__(self, quiz: Quiz, record: QuizRecord | None = None, **kwargs) -> None:
        """``record`` holds the learner's earlier tries: tries without a right one make the
        answer available at once."""
        super().__init__(**kwargs)
        self.quiz = quiz
        self.record = record
        self.wrong_tries = 1 if record is not None and not record.correct and record.attempts else 0
        self.solved = bool(record and record.correct)
        self.hints_shown = 0
        self.answer_shown = False

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._title(), classes="quiz-title")
        yield Markdown(self.quiz.question)
        if self.quiz.choices is not None:
            yield ChoiceList(self.quiz.choices, self.quiz.is_multiple)
        else:
            yield AnswerInput(placeholder="your answer, then Enter")
        yield Static(self._keys_text(), classes="quiz-keys")
        yield Vertical(classes="quiz-hints")
        yield Markdown(classes="quiz-feedback")
        yield Markdown(classes="quiz-answer")

    def on_mount(self) -> None:
        """Say how the last try went, if there was one."""
        if self.record is not None and self.record.attempts:
            last = self.record.attempts[-1]
            if last.correct:
                self._feedback(f"✓ Answered right: {_code(last.answer)}", "-right", explain=True)
            else:
                self._feedback(f"Last time you answered {_code(last.answer)}, which was not right. Try again.",
                               "-wrong")
            self.set_class(last.correct, "-right")

    def _title(self) -> str:
        """``Quiz``, with a ✓ once solved."""
        done = "  ✓" if self.solved else ""
        return f"Quiz{done}"

    def _keys_text(self) -> str:
        """The keys that do something now: how to answer, the next hint, the answer after a
        wrong try."""
        if self.quiz.choices is None:
            parts = ["Enter answers"]
        elif self.quiz.is_multiple:
            parts = [f"1-{len(self.quiz.choices)} or Space tick", "Enter answers (pick all that are right)"]
        else:
            parts = [f"1-{len(self.quiz.choices)} or ↑↓ Enter answer"]
        if len(self.quiz.hints) > self.hints_shown:
            parts.append(f"F3 hint ({self.hints_shown}/{len(self.quiz.hints)})")
        if self.wrong_tries and not self.answer_shown and not self.solved:
            parts.append("F10 show the answer")
        return " · ".join(parts)

    def _refresh_keys(self) -> None:
        """Redraw the keys line and the title, and let the footer ask ``check_action`` again."""
        self.query_one(".quiz-keys", Static).update(self._keys_text())
        self.query_one(".quiz-title", Static).update(self._title())
        self.refresh_bindings()

    def _feedback(self, text: str, kind: str, explain: bool = False) -> None:
        """Show ``text`` (Markdown) in the ``kind`` tone (-right, -wrong, -note), with the
        quiz's explain if asked."""
        feedback = self.query_one(".quiz-feedback", Markdown)
        if explain and self.quiz.explain:
            text += "\n\n" + self.quiz.explain
        feedback.update(text)
        feedback.set_classes(f"quiz-feedback -shown {kind}")

    def _reveal(self, part: Widget, looks: int = REVEAL_LOOKS) -> None:
        """Scroll ``part``, just shown under the answer box, into view, and again each
        frame while its Markdown is filled in: a quiz answered at the bottom of the view
        put its verdict (a hint, the answer) below it, unseen."""
        if not part.is_attached:
            return
        if part.size.height:
            part.scroll_visible(animate=False)
        if looks:
            self.set_timer(REVEAL_WAIT, lambda: self._reveal(part, looks - 1))

    # -- answering --------------------------------------------------------------------------

    def on_choice_list_picked(self, message: ChoiceList.Picked) -> None:
        """Answer with the picked choices: a tuple when several may be right, else one text."""
        message.stop()
        self.submit(message.choices if self.quiz.is_multiple else message.choices[0] if message.choices else "")

    def on_input_submitted(self, message: Input.Submitted) -> None:
        """Answer with what was typed."""
        message.stop()
        self.submit(message.value)

    def answer_now(self) -> None:
        """Answer with what is chosen or typed now, as Enter does (F5, the run key, on a
        quiz)."""
        choices = self.query(ChoiceList)
        if choices:
            choices.first().action_select()
        else:
            self.submit(self.query_one(AnswerInput).value)

    def submit(self, response) -> Grade:
        """Grade ``response`` (as the learner gave it), show the feedback, post Answered."""
        result = grade(self.quiz, response)
        self._reveal(self.query_one(".quiz-feedback", Markdown))
        if not result.valid:
            self._feedback(result.feedback, "-note")
            return result
        self.solved = result.correct  # as the progress record has it: the latest try counts
        if result.correct:
            self._feedback(f"✓ {result.feedback}", "-right", explain=not self.answer_shown)
        else:
            self.wrong_tries += 1
            extra = "" if self.answer_shown else " Try again, or press F10 to see the answer."
            self._feedback(f"✗ {result.feedback}{extra}", "-wrong")
        self.set_class(result.correct, "-right")
        self.set_class(not result.correct, "-wrong")
        self._refresh_keys()
        self.post_message(self.Answered(self.quiz.id, answer_text(self.quiz, response), result.correct))
        return result

    # -- hints and the answer ---------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A hint while one is left; the answer after a wrong try, until solved or shown."""
        if action == "hint":
            return len(self.quiz.hints) > self.hints_shown
        if action == "show_answer":  # after a wrong try, until solved or shown
            return bool(self.wrong_tries) and not self.answer_shown and not self.solved
        return True

    def action_hint(self) -> None:
        """F3: show the next hint (a bell when none is left)."""
        if self.hints_shown >= len(self.quiz.hints):
            self.app.bell()
            return
        hint = self.quiz.hints[self.hints_shown]
        self.hints_shown += 1
        shown = Markdown(f"**Hint {self.hints_shown}/{len(self.quiz.hints)}.** {hint.text}")
        self.query_one(".quiz-hints", Vertical).mount(shown)
        self._refresh_keys()
        self._reveal(shown)

    def action_show_answer(self) -> None:
        """F10: show the right answer and the explanation, but only after a wrong try."""
        if self.solved:
            return  # the learner found it: nothing to reveal
        if not self.wrong_tries:
            self.app.bell()
            self.notify("Try once first: the answer is shown after a wrong try.", timeout=3)
            return
        self.answer_shown = True
        answer = self.query_one(".quiz-answer", Markdown)
        label = "The answers" if self.quiz.is_multiple else "The answer"
        text = f"{label}: {_code(correct_answer_text(self.quiz))}"
        if self.quiz.explain:
            text += "\n\n" + self.quiz.explain
        answer.update(text)
        answer.add_class("-shown")
        self._refresh_keys()
        self._reveal(answer)
