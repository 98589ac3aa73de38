"""The lesson footer at 80 columns: the most important keys first, and only whole labels."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from tutor.ui.widgets.key_footer import KeyFooter


FIRST = ["f5 Run", "f6 Run+next", "f7 Stop", "^↓ Next step", "f1 Help"]


@pytest.fixture
def assert_whole(screen_text, footer_labels):
    def check(app) -> None:
        """Every key shown lies inside the screen, and the footer row reads each label whole."""
        width = app.size.width
        keys = list(app.screen.query_one(KeyFooter).query(FooterKey))
        assert keys
        for key in keys:
            assert key.region.right <= width, f"{key.key_display} {key.description} is cut"
        row = screen_text(app).splitlines()[-1]
        for label in footer_labels(app):
            assert label in row.replace("  ", " "), (label, row)
    return check


@pytest.mark.parametrize("width", [80, 64])
async def test_the_first_keys_come_first_and_every_label_is_whole(make_app, width, settle, cells, footer_labels, assert_whole):
    app, _ = make_app("basics")
    async with app.run_test(size=(width, 24)) as pilot:
        await settle(pilot, app)
        assert app.focused is cells(app)[0].editor
        labels = footer_labels(app)
        assert labels[:5] == FIRST
        assert_whole(app)


async def test_an_exercise_says_check_and_adds_its_keys_after_the_first_ones(make_app, settle, cells, footer_labels, assert_whole):
    app, _ = make_app("basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        cells(app)[3].editor.focus()
        await pilot.pause()
        await pilot.pause()
        # F5 checks an exercise: the footer says so, as its button does ("Check F5"). (The
        # exercise is on the lesson's last step: no "Next step" there.)
        last_step = [label for label in FIRST[2:] if label != "^↓ Next step"]
        assert footer_labels(app)[:6] == ["f5 Check", "f6 Check+next", *last_step, "f3 Hint", "f10 Solution"]
        assert_whole(app)
        cells(app)[0].editor.focus()  # back on a code cell: F5 runs it
        await pilot.pause()
        await pilot.pause()
        assert footer_labels(app)[:5] == FIRST


async def test_a_focused_wide_output_offers_w_and_the_footer_follows_a_resize(make_app, settle, cells, run_cell, footer_labels, assert_whole):
    app, _ = make_app("errors")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        table = cells(app)[5]
        await run_cell(pilot, app, table)
        table.output.focus()
        await pilot.pause()
        await pilot.pause()
        assert "w Pan" in footer_labels(app)
        assert_whole(app)
        await pilot.press("w")
        await pilot.pause()
        await pilot.pause()
        assert "w Wrap" in footer_labels(app)
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        await pilot.pause()
        wide = footer_labels(app)
        assert "f8 Restart" in wide and "^p palette" in wide  # room for the last ones now
        assert_whole(app)
        await pilot.resize_terminal(50, 20)
        await pilot.pause()
        await pilot.pause()
        assert len(footer_labels(app)) < len(wide)
        assert_whole(app)


async def test_the_keys_are_rebuilt_only_when_they_change(make_app, settle, cells, footer_labels):
    app, _ = make_app("basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        footer = app.screen.query_one(KeyFooter)
        before = list(footer.query(FooterKey))
        cells(app)[1].editor.focus()  # another code cell: the same keys
        await pilot.pause()
        await pilot.pause()
        assert list(footer.query(FooterKey)) == before  # the same widgets, not new ones
        cells(app)[3].editor.focus()  # an exercise: Hint and Solution join
        await pilot.pause()
        await pilot.pause()
        assert "f3 Hint" in footer_labels(app)


async def test_the_last_step_offers_no_next_step(make_app, settle, footer_labels, assert_whole):
    """Ctrl+↓ on the last step went nowhere while the footer still offered it."""
    app, _ = make_app("basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        last = screen.lesson.steps[-1].id
        screen.page.jump(step_id=last)
        for _ in range(40):
            await pilot.pause(0.05)
            if screen.current_step == last and screen.idle:
                break
        await pilot.pause()
        assert screen.current_step == last
        assert "^↓ Next step" not in footer_labels(app)
        assert_whole(app)
        await pilot.press("ctrl+up")  # the step before it is still there
        for _ in range(40):
            await pilot.pause(0.05)
            if screen.current_step != last and screen.idle:
                break
        await pilot.pause()
        assert screen.current_step == screen.lesson.steps[-2].id
        assert "^↓ Next step" in footer_labels(app)


async def test_in_a_quiz_f5_answers_it_and_runs_no_code(make_app, settle, cells, footer_labels, assert_whole):
    from tutor.ui.widgets.quiz import AnswerInput, QuizView

    app, clients = make_app("basics")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        cells(app)[0].editor.focus()  # a current cell above the quiz: F5 must not run it
        cells(app)[0].editor.load_text("x = 'edited'")  # nor F9 reset it
        await pilot.pause()
        lesson_screen = app.screen
        quiz = app.screen.query_one(QuizView)
        box = quiz.query_one(AnswerInput)
        box.focus()
        await pilot.pause()
        await pilot.pause()
        labels = footer_labels(app)
        assert labels[0] == "f5 Answer" and not any(label.startswith(("f6", "f9")) for label in labels)
        assert "f10 Show answer" not in labels  # offered only after a wrong try
        assert_whole(app)
        box.value = "41"
        await pilot.press("f5")
        await pilot.pause()
        assert quiz.wrong_tries == 1 and not quiz.solved
        await pilot.press("f6")  # not offered in a quiz: nothing happens
        await pilot.pause()
        await pilot.press("f9")  # nor this: no question about the cell above
        await pilot.pause()
        assert app.screen is lesson_screen and cells(app)[0].code == "x = 'edited'"
        box.value = "42"
        await pilot.press("f5")
        await settle(pilot, app)
        assert quiz.solved
        assert clients[0].executed == []  # no cell ran
