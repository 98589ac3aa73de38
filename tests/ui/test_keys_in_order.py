"""Keys that arrive in one burst (fast typing over SSH, tmux) are applied in order.

Textual runs a focused widget's bindings (backspace, arrows) only once the key has
bubbled up to the App, after the characters typed later were inserted; the editors
and the quiz's answer box run them on arrival instead."""

from __future__ import annotations

import pytest
from textual import events
from textual.app import App
from textual.widgets import Input, TextArea

from tutor.lessons.model import Quiz
from tutor.ui.widgets.editor import CodeEditor
from tutor.ui.widgets.quiz import AnswerInput, QuizView

BURST = [("backspace", None)] * 3 + [("x", "x"), ("y", "y"), ("left", None), ("z", "z")]


class Editors(App):
    def __init__(self, make):
        super().__init__()
        self.make = make

    def compose(self):
        self.widget = self.make()
        yield self.widget


def text_of(widget) -> str:
    return widget.value if isinstance(widget, Input) else widget.text


async def burst_into(make) -> str:
    app = Editors(make)
    async with app.run_test() as pilot:
        widget = app.widget
        widget.focus()
        await pilot.pause()
        if isinstance(widget, TextArea):
            widget.move_cursor((0, 3))
        for key, character in BURST:  # all queued before the first is handled
            app.post_message(events.Key(key, character))
        await pilot.pause(0.3)
        return text_of(widget)


@pytest.mark.parametrize("make", [lambda: CodeEditor("abc"), lambda: AnswerInput("abc")],
                         ids=["code-editor", "answer-input"])
async def test_a_burst_of_edits_lands_in_order(make):
    assert await burst_into(make) == "xzy"


async def test_plain_textual_widgets_get_it_wrong():
    # Why the mixin exists: if Textual changes this, the mixin can go.
    assert await burst_into(lambda: Input("abc")) != "xzy"


async def test_quiz_answer_typed_in_a_burst_is_graded_as_typed():
    quiz = Quiz(id="q", question="Shape?", answer="(5,)", line=1)
    app = Editors(lambda: QuizView(quiz))
    async with app.run_test() as pilot:
        app.query_one(AnswerInput).focus()
        await pilot.pause()
        for character in "(1, 5)":
            app.post_message(events.Key(character, character))
        app.post_message(events.Key("enter", "\r"))
        await pilot.pause(0.3)
        for key, character in [("backspace", None)] * 6 + [(c, c) for c in "(5,)"] + [("enter", "\r")]:
            app.post_message(events.Key(key, character))
        await pilot.pause(0.3)
        assert app.query_one(AnswerInput).value == "(5,)"
        assert app.query_one(QuizView).solved
