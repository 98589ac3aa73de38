"""The output of a cell: the line buffer (pure) and the virtualised, folding view."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from tutor.ui.output_buffer import OutputBuffer, StyledLine, plain
from tutor.ui.widgets.output_view import OutputView

from screen_text import screen_text


def lines(buffer: OutputBuffer) -> list[str]:
    return [plain(buffer.line(i)) for i in range(len(buffer))]


def test_lines_and_the_open_line():
    buffer = OutputBuffer()
    buffer.write("a\nb\nhalf")
    assert lines(buffer) == ["a", "b", "half"]
    buffer.write(" done\n")
    assert lines(buffer) == ["a", "b", "half done"]


def test_carriage_return_rewrites_the_line_like_a_terminal():
    buffer = OutputBuffer()
    buffer.write("progress 10%\r")
    buffer.write("progress 50%\r")
    assert lines(buffer) == ["progress 50%"]
    buffer.write("progress 100%\rdone\n")
    assert lines(buffer) == ["doneress 100%"]
    buffer.write("x\r\n")
    assert lines(buffer)[-1] == "x"


def test_ansi_colours_become_spans_and_carry_to_the_next_line():
    buffer = OutputBuffer()
    buffer.write("\x1b[1;31mred\nstill red\x1b[0m plain\nplain\n")
    first, second, third = (buffer.line(i) for i in range(3))
    assert isinstance(first, StyledLine) and first.text == "red" and first.spans[0].sgr == "1;31"
    assert second.text == "still red plain" and second.spans == ((0, 9, "1;31"),)
    assert third == "plain"


def test_other_escape_sequences_are_not_shown():
    buffer = OutputBuffer()
    buffer.write("a\x1b[2Kb\n")
    assert "\x1b" not in plain(buffer.line(0))


def test_stderr_lines_keep_their_kind():
    buffer = OutputBuffer()
    buffer.write("out\n")
    buffer.write("warning!\n", "stderr")
    assert buffer.line(0) == "out"
    assert buffer.line(1).kind == "stderr"


def test_head_and_tail_are_kept_and_the_middle_counted():
    buffer = OutputBuffer(head=3, tail=4)
    buffer.write("".join(f"{i}\n" for i in range(100)))
    shown = lines(buffer)
    assert shown[:3] == ["0", "1", "2"]
    assert shown[-4:] == ["96", "97", "98", "99"]
    assert buffer.total_lines == 100
    assert "93 lines not kept" in shown[3]


def test_a_flood_keeps_bounded_memory():
    buffer = OutputBuffer(head=10, tail=1000)
    for _ in range(100):
        buffer.write("".join(f"{i}\n" for i in range(1000)))
    assert len(buffer) <= 10 + 1 + 1250
    assert buffer.total_lines == 100_000


def test_the_sandbox_cap_is_counted():
    buffer = OutputBuffer()
    buffer.write("head\n")
    buffer.note_dropped(5000)
    buffer.write("tail\n")
    assert lines(buffer) == ["head", "⋯ 5,000 lines not kept ⋯", "tail"]


def test_huge_lines_are_clipped():
    buffer = OutputBuffer()
    buffer.write("x" * 100_000 + "\n")
    assert len(plain(buffer.line(0))) < 5000
    assert "more characters" in plain(buffer.line(0))


class OutputApp(App):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield OutputView()


async def test_long_output_is_folded_with_a_count_and_unfolds():
    app = OutputApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(OutputView)
        view.buffer.write("".join(f"line {i}\n" for i in range(1000)))
        view.buffer_changed()
        await pilot.pause()
        assert view.size.height == OutputView.FOLD_ROWS
        text = screen_text(app)
        assert "989 lines above · o unfolds" in text
        assert "line 999" in text and "line 500" not in text
        view.focus()
        await pilot.press("up", "up")
        await pilot.pause()
        assert "line 997" in screen_text(app) and "line 999" not in screen_text(app)
        assert "2 below" in screen_text(app)
        await pilot.press("o")
        await pilot.pause()
        assert view.size.height == 1000


async def test_only_visible_lines_are_rendered():
    app = OutputApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(OutputView)
        view.buffer.write("".join(f"line {i}\n" for i in range(100_000)))
        view.folded = False
        view.buffer_changed()
        await pilot.pause()
        calls = []
        original = view.render_line
        view.render_line = lambda y: calls.append(y) or original(y)  # type: ignore[method-assign]
        view.refresh()
        await pilot.pause()
        assert 0 < len(calls) <= 24
